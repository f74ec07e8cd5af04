import type { Agent } from './agents';

/** The CSRF token a rendered form carries in its hidden `_csrf` field. */
export function formCsrfToken(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('the page has no CSRF field');
  return match[1];
}

/** Loads the login page and submits its form, as a browser would. */
export async function submitLoginForm(agent: Agent, fields: { email: string; password: string; next?: string }, page = '/login') {
  const form = await agent.get(page).expect(200);
  return agent
    .post('/login')
    .type('form')
    .send({ ...fields, _csrf: formCsrfToken(form.text) });
}
