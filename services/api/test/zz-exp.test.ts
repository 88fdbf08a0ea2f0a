import { it } from 'vitest';
import { startAuthHarness } from '@lbc/test-support/auth-harness';
it('exp', async () => {
  const h = await startAuthHarness({ authMode: 'required' });
  for (const url of ['/dashboard/queues', '/dashboard/queues/', '/dashboard/queues/api/queues', '/dashboard']) {
    const r = await h.app.inject({ url });
    console.log(url, r.statusCode, r.headers['www-authenticate'], r.body.slice(0, 200));
  }
  await h.close();
});
