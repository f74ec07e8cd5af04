import type { Response } from 'express';

/** Tells the browser to drop what the page kept as well (SPEC "Sessions"). */
export function sendClearSiteData(res: Response): void {
  res.setHeader('Clear-Site-Data', '"cookies", "storage"');
}
