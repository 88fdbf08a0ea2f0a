/**
 * The aggregated calls as a picture (--svg FILE, --html FILE): an icicle graph (a flame graph with
 * the traced function on top), one box per call path, as wide as the time spent there over all
 * calls, with calls, total and mean time in its tooltip. Plain SVG written here: no script, no
 * fonts or styles fetched from anywhere.
 */
import type { CallNode, GraphCall } from './call-tree.ts';

export interface PathNode {
  func: string;
  calls: number;
  totalNs: number;
  children: Map<string, PathNode>;
}

export function aggregate(calls: GraphCall[]): PathNode | undefined {
  if (!calls.length) return undefined;
  const top: PathNode = { func: calls[0]!.root.func, calls: 0, totalNs: 0, children: new Map() };
  const add = (into: PathNode, n: CallNode) => {
    into.calls++;
    into.totalNs += n.durationNs ?? 0;
    for (const c of n.children) {
      let child = into.children.get(c.func);
      if (!child) into.children.set(c.func, (child = { func: c.func, calls: 0, totalNs: 0, children: new Map() }));
      add(child, c);
    }
  };
  for (const call of calls) add(top, call.root);
  return top;
}

const WIDTH = 1200;
const ROW = 18;
const PAD = 10;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A warm colour from the name, stable between runs. */
function colour(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${20 + (h % 40)}, ${70 + (h % 20)}%, ${55 + ((h >> 8) % 15)}%)`;
}

function depthOf(n: PathNode): number {
  let d = 0;
  for (const c of n.children.values()) d = Math.max(d, depthOf(c));
  return d + 1;
}

export function flameSvg(calls: GraphCall[], title: string): string {
  const top = aggregate(calls);
  const rows = top ? depthOf(top) : 0;
  const height = PAD * 2 + 24 + rows * ROW;
  const boxes: string[] = [];
  const draw = (n: PathNode, x: number, w: number, level: number) => {
    if (w < 0.5) return;
    const y = PAD + 24 + level * ROW;
    const us = (ns: number) => `${(ns / 1000).toFixed(3)} us`;
    const tip = `${n.func}: ${n.calls} call(s), ${us(n.totalNs)} in all, ${us(n.calls ? n.totalNs / n.calls : 0)} each`;
    const chars = Math.floor((w - 6) / 7);
    const label = chars >= 3 ? (n.func.length > chars ? `${n.func.slice(0, chars - 2)}..` : n.func) : '';
    boxes.push(
      `<g><title>${esc(tip)}</title><rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${ROW - 1}" rx="2" fill="${colour(n.func)}"/>` +
        (label ? `<text x="${(x + 3).toFixed(2)}" y="${y + ROW - 5}">${esc(label)}</text>` : '') +
        '</g>',
    );
    const kids = [...n.children.values()];
    const sum = kids.reduce((s, c) => s + c.totalNs, 0);
    // Children share the parent's width by their time; if their times add up to more (clock skew,
    // unfinished calls), they are scaled to fit.
    const scale = n.totalNs > 0 ? w / Math.max(n.totalNs, sum) : kids.length ? w / kids.length : 0;
    let at = x;
    for (const c of kids) {
      const cw = n.totalNs > 0 ? c.totalNs * scale : scale;
      draw(c, at, cw, level + 1);
      at += cw;
    }
  };
  if (top) draw(top, PAD, WIDTH - PAD * 2, 0);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="monospace" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fdfdf8"/>`,
    `<text x="${PAD}" y="${PAD + 14}" font-size="14">${esc(title)}</text>`,
    ...boxes,
    '</svg>',
    '',
  ].join('\n');
}

export function flameHtml(calls: GraphCall[], title: string): string {
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${esc(title)}</title></head>\n<body style="margin:0;background:#fdfdf8">\n${flameSvg(calls, title)}</body></html>\n`;
}
