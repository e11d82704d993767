// `rstlab why`, the work behind the command (registered in why-command.ts, loaded when it runs).
// Wiring only: load the catalog (src/catalog/load.ts), match the text and rank the causes
// (src/catalog/match.ts), render the answer (src/report/why-text.ts), write it, and return the
// exit status: 0 when something matched, 1 when nothing did.

import pc from 'picocolors';
import { defaultCatalogPath, loadCatalog } from '../catalog/load.js';
import { matchError, rankCauses } from '../catalog/match.js';
import type { Painter } from '../report/text.js';
import { plain } from '../report/text.js';
import { renderWhyNothing, renderWhyText, whyRecord, whySuggestion } from '../report/why-text.js';
import { writeOut } from './output.js';

export interface WhyOptions { json?: boolean; catalog?: string; color?: boolean; ladders?: boolean }

export function runWhy(text: string, opts: WhyOptions): number {
  const catalog = loadCatalog(opts.catalog ?? defaultCatalogPath());
  const painter: Painter = opts.color !== false && pc.isColorSupported ? pc : plain;
  const matches = matchError(catalog, text);
  const causes = rankCauses(matches);
  if (!matches.length) {
    const suggestion = whySuggestion(matchError(catalog, text, { min: 0.15 }).slice(0, 3));
    if (opts.json) writeOut(JSON.stringify({ ...whyRecord(text, matches, causes), suggestion }) + '\n');
    else writeOut(renderWhyNothing(text, catalog, suggestion));
    return 1;
  }
  if (opts.json) writeOut(JSON.stringify(whyRecord(text, matches, causes)) + '\n');
  else {
    const width = Math.max(60, Math.min(100, process.stdout.columns || 100));
    writeOut(renderWhyText(text, matches, causes, painter, { ladders: opts.ladders !== false, width: width - 3 }) + '\n');
  }
  return 0;
}
