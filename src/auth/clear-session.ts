import type { Response } from 'express';

/**
 * Tells the browser to drop what the pages kept as well. Not `"cookies"`: that
 * would wipe every cookie of the site, not only the session's, which is cleared
 * by name.
 */
export function sendClearSiteData(res: Response): void {
  res.setHeader('Clear-Site-Data', '"cache", "storage"');
}
