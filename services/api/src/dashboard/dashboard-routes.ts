/**
 * The dashboard at /dashboard: a small static page fed by /dashboard/api/summary, and the BullMQ
 * queue board (@bull-board, read-only) at /dashboard/queues. Both are admin routes (see
 * auth/access-policy.ts): open to loopback clients in loopback mode, otherwise an admin token as
 * Bearer or as the password of the browser's Basic prompt.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { dashboardSummary, type DashboardDeps } from './summary.ts';

export const DASHBOARD_PATH = '/dashboard';
const QUEUE_BOARD_PATH = `${DASHBOARD_PATH}/queues`;

const asset = (name: string) => readFileSync(new URL(`./page/${name}`, import.meta.url), 'utf8');
// Everything the page shows is user data (program names, clang output): scripts only from here.
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

export function dashboardRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const page = { html: asset('index.html'), js: asset('dashboard.js'), css: asset('dashboard.css') };
  const hidden = { schema: { hide: true } as object };

  app.get(DASHBOARD_PATH, hidden, async (_request, reply) => reply.type('text/html; charset=utf-8').header('Content-Security-Policy', CSP).send(page.html));
  app.get(`${DASHBOARD_PATH}/dashboard.js`, hidden, async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(page.js));
  app.get(`${DASHBOARD_PATH}/dashboard.css`, hidden, async (_request, reply) => reply.type('text/css; charset=utf-8').send(page.css));
  app.get(`${DASHBOARD_PATH}/api/summary`, hidden, async (_request, reply) => reply.header('Cache-Control', 'no-store').send(await dashboardSummary(deps)));

  const board = new FastifyAdapter();
  board.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    // Read-only: retrying or removing jobs by hand would bypass the cache-key bookkeeping.
    queues: [new BullMQAdapter(deps.producer.queue, { readOnlyMode: true })],
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'lbc compile queue' } },
  });
  void app.register(board.registerPlugin(), { prefix: QUEUE_BOARD_PATH });
}
