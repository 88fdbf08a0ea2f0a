// The dashboard page: polls /dashboard/api/summary and renders it. All values are written as text
// (never as HTML): program names and clang output come from users.
'use strict';

const REFRESH_MS = 3000;

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function fillList(id, rows) {
  const dl = document.getElementById(id);
  dl.replaceChildren(...rows.flatMap(([label, value]) => [el('dt', label), el('dd', value)]));
}

function fillTable(id, rows) {
  document.querySelector(`#${id} tbody`).replaceChildren(...rows);
}

const ms = (n) => (n === null || n === undefined ? '–' : n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`);
const pct = (r) => (r === null ? '–' : `${(r * 100).toFixed(1)} %`);
const bytes = (n) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`);
const time = (iso) => new Date(iso).toLocaleTimeString();

function row(cells) {
  const tr = el('tr');
  for (const cell of cells) tr.append(cell instanceof Node ? cell : el('td', cell));
  return tr;
}

function jobRows(job) {
  const outcome = el('td', job.outcome === 'compile-error' ? 'compile error' : job.outcome, job.outcome);
  const name = el('td');
  name.append(el('code', job.name));
  if (job.cflags.length) name.append(' ', el('span', job.cflags.join(' '), 'muted'));
  const main = row([time(job.submittedAt), name, job.tenant ?? '–', outcome, ms(job.totalMs), job.processedBy ?? '–', el('td', job.requestId ?? '–', 'muted')]);
  main.dataset.jobId = job.id;
  const detail = job.diagnostics ?? job.failedReason;
  if (!detail) return [main];
  const cell = el('td');
  cell.colSpan = 7;
  const pre = el('pre', detail, 'diagnostics');
  pre.dataset.jobId = job.id;
  cell.append(pre);
  return [main, row([cell])];
}

function render(s) {
  fillList('queue', [
    ['waiting', s.queue.waiting],
    ['running', s.queue.active],
    ['delayed (retry)', s.queue.delayed],
    ['finished, last 5 min', s.queue.finishedLast5m],
    ['throughput', `${s.queue.perMinute} / min`],
    ['failed (kept)', s.queue.failed],
  ]);
  fillList('latency', [
    ['clang p50', ms(s.latency.compileP50Ms)],
    ['clang p90', ms(s.latency.compileP90Ms)],
    ['queue → done p50', ms(s.latency.totalP50Ms)],
    ['queue → done p90', ms(s.latency.totalP90Ms)],
    ['slowest', ms(s.latency.totalMaxMs)],
    ['recent jobs', s.latency.samples],
  ]);
  fillList('cache', [
    ['hit ratio', pct(s.cache.hitRatio)],
    ['hits', s.cache.hits],
    ['misses', s.cache.misses],
    ['objects', s.cache.entries],
    ['size', bytes(s.cache.bytes)],
  ]);
  fillTable(
    'workers',
    s.workers.length
      ? s.workers.map((w) => row([w.id, `${w.host} (pid ${w.pid})`, `${w.active} / ${w.concurrency}`, el('td', w.dockerOk ? 'ok' : 'unreachable', w.dockerOk ? 'ok' : 'failed'), `${(w.seenAgoMs / 1000).toFixed(1)} s ago`]))
      : [row([el('td', 'no worker alive: compiles wait in the queue', 'pending')])],
  );
  fillTable('jobs', s.recentJobs.flatMap(jobRows));
  fillTable('kernels', s.kernels.map((k) => row([k.release, k.arch, k.distro || '–', k.source, bytes(k.btfSize), el('td', k.btfSha256.slice(0, 16), 'muted')])));
  document.getElementById('updated').textContent = `updated ${time(s.generatedAt)}`;
}

async function refresh() {
  const error = document.getElementById('error');
  try {
    const res = await fetch('/dashboard/api/summary', { credentials: 'same-origin', headers: { accept: 'application/json' } });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`);
    render(body);
    error.hidden = true;
    document.body.dataset.loaded = 'true';
  } catch (err) {
    error.textContent = `cannot read the summary: ${err.message}`;
    error.hidden = false;
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
