// SVG rendering of a ladder model (ladder.ts). Contract: pure, one self-contained <svg> element
// with inline presentation attributes only — no CSS classes it depends on, no ids, no external
// references (fonts are generic families) — so many ladders can sit in one HTML page and each one
// also works alone. Rows are a fixed height; arrows slope down a little from sender to receiver;
// RSTs are red, thicker and labelled with their cause; notes sit on their host's line.
// Elements carry data attributes (`data-kind`, `data-frame`, `data-cause`, `data-who`) for tests
// and for readers who inspect the page.

import type { LadderModel } from './ladder.js';
import { formatMs, segmentLabel } from './ladder.js';

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const FONT = 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
const CHAR_W = 6.7; // width of one character at 11px monospace, for layout estimates
const ROW_H = 26;
const TOP = 58;
const TIME_W = 70;
const RED = '#c62828';
const INK = '#222';
const MUTED = '#666';
const LANE = '#9aa4b2';

const labelOf = (e: Extract<LadderModel['events'][number], { kind: 'segment' }>) =>
  `${segmentLabel(e)}${e.flags.includes('R') ? `  RST: ${e.cause ?? 'not judged'}` : ''}`;

export function renderLadderSvg(model: LadderModel): string {
  const n = Math.max(1, model.hosts.length);
  const longestLabel = Math.max(20, ...model.events.map((e) => (e.kind === 'segment' ? labelOf(e).length : 0)));
  const longestNote = Math.max(0, ...model.events.map((e) => (e.kind === 'note' ? e.text.length + 2 : 0)));
  const gap = n === 1 ? 0 : Math.min(420, Math.max(200, Math.ceil(longestLabel * CHAR_W) + 30));
  const x0 = TIME_W + 60;
  const laneX = (i: number) => x0 + i * gap;
  const rightRoom = Math.max(80, Math.ceil(longestNote * CHAR_W) + 20);
  const width = Math.ceil(x0 + (n - 1) * gap + rightRoom);
  const rows = Math.max(1, model.events.length);
  const height = TOP + rows * ROW_H + 20;
  const bottom = height - 12;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="ladder" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" `
    + `font-family="${FONT}" font-size="11" data-hosts="${escapeXml(model.hosts.map((h) => h.label).join(' '))}" aria-label="${escapeXml(`ladder diagram: ${model.title}`)}">`);
  out.push(`<title>${escapeXml(model.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="${TIME_W - 8}" y="${TOP - 12}" text-anchor="end" fill="${MUTED}">ms</text>`);
  model.hosts.forEach((h, i) => {
    const x = laneX(i);
    out.push(`<g data-kind="host" data-host="${escapeXml(h.label)}">`);
    out.push(`<text x="${x}" y="18" text-anchor="middle" font-weight="bold" font-size="12" fill="${INK}">${escapeXml(h.label)}</text>`);
    if (h.detail) out.push(`<text x="${x}" y="32" text-anchor="middle" fill="${MUTED}">${escapeXml(h.detail)}</text>`);
    out.push(`<line x1="${x}" y1="${TOP - 20}" x2="${x}" y2="${bottom}" stroke="${LANE}" stroke-width="2"/>`);
    out.push('</g>');
  });

  model.events.forEach((e, row) => {
    const y = TOP + row * ROW_H;
    if (e.kind !== 'gap' || e.ms !== null) {
      out.push(`<text x="${TIME_W - 8}" y="${y + 4}" text-anchor="end" fill="${MUTED}">${escapeXml(formatMs(e.ms))}</text>`);
    }
    switch (e.kind) {
      case 'segment': {
        const rst = e.flags.includes('R');
        const colour = rst ? RED : INK;
        const xa = laneX(e.from);
        const xb = laneX(e.to);
        const y2 = y + 10;
        out.push(`<g data-kind="segment" data-frame="${e.frame}" data-flags="${escapeXml(e.flags)}"${rst ? ` data-cause="${escapeXml(e.cause ?? 'not judged')}"` : ''}>`);
        if (xa === xb) {
          out.push(`<circle cx="${xa}" cy="${y}" r="4" fill="${colour}"/>`);
          out.push(`<text x="${xa + 10}" y="${y + 4}" fill="${colour}"${rst ? ' font-weight="bold"' : ''}>${escapeXml(labelOf(e))}</text>`);
        } else {
          const dir = xb > xa ? 1 : -1;
          const tipX = xb - dir * 2;
          const len = Math.hypot(tipX - xa, y2 - y);
          const ux = (tipX - xa) / len;
          const uy = (y2 - y) / len;
          const bx = tipX - ux * 9;
          const by = y2 - uy * 9;
          out.push(`<line x1="${xa}" y1="${y}" x2="${bx.toFixed(1)}" y2="${by.toFixed(1)}" stroke="${colour}" stroke-width="${rst ? 2.5 : 1.3}"/>`);
          out.push(`<polygon points="${tipX.toFixed(1)},${y2} ${(bx - uy * 4.5).toFixed(1)},${(by + ux * 4.5).toFixed(1)} ${(bx + uy * 4.5).toFixed(1)},${(by - ux * 4.5).toFixed(1)}" fill="${colour}"/>`);
          if (rst) out.push(`<circle cx="${xa}" cy="${y}" r="3.5" fill="${RED}"/>`);
          out.push(`<text x="${((xa + xb) / 2).toFixed(1)}" y="${y - 3}" text-anchor="middle" fill="${colour}"${rst ? ' font-weight="bold"' : ''}>${escapeXml(labelOf(e))}</text>`);
        }
        out.push('</g>');
        break;
      }
      case 'note': {
        const colour = e.tone === 'error' ? RED : e.tone === 'action' ? '#8a5a00' : '#1f5f8b';
        const fill = e.tone === 'error' ? '#fdecea' : e.tone === 'action' ? '#fff4d6' : '#e8f1fa';
        const text = e.who === 'lab' || e.host === null ? `${e.who === 'lab' ? '⚡ ' : `${e.who}: `}${e.text}` : e.text;
        const w = Math.ceil(text.length * CHAR_W) + 12;
        const last = e.host !== null && e.host === n - 1 && n > 1;
        const hx = e.host === null ? laneX(0) + ((n - 1) * gap) / 2 : laneX(e.host);
        const bx = e.host === null ? hx - w / 2 : last ? hx - 10 - w : hx + 10;
        out.push(`<g data-kind="note" data-who="${escapeXml(e.who)}" data-tone="${e.tone}">`);
        if (e.host !== null) out.push(`<rect x="${hx - 5}" y="${y - 5}" width="10" height="10" transform="rotate(45 ${hx} ${y})" fill="${colour}"/>`);
        out.push(`<rect x="${bx.toFixed(1)}" y="${y - 9}" width="${w}" height="17" rx="3" fill="${fill}" stroke="${colour}" stroke-width="0.8"/>`);
        out.push(`<text x="${(bx + 6).toFixed(1)}" y="${y + 3}" fill="${colour}">${escapeXml(text)}</text>`);
        out.push('</g>');
        break;
      }
      case 'gap': {
        out.push(`<g data-kind="gap"><text x="${laneX(0) + ((n - 1) * gap) / 2}" y="${y + 4}" text-anchor="middle" fill="${MUTED}" font-style="italic">… ${e.segments} segment${e.segments === 1 ? '' : 's'} not kept …</text></g>`);
        break;
      }
    }
  });
  if (!model.events.length) out.push(`<text x="${x0}" y="${TOP + 4}" fill="${MUTED}">no packets captured</text>`);
  out.push('</svg>');
  return out.join('\n');
}
