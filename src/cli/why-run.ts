// `rstlab why`, the work behind the command (registered in why-command.ts, loaded when it runs).
// Wiring only: load the catalog (src/catalog/load.ts), match the text and rank the causes
// (src/catalog/match.ts), render the answer (src/report/why-text.ts), write it, and return the
// exit status: 0 when something matched or the text is no TCP event (said so), 1 when nothing did.

import pc from 'picocolors';
import { defaultCatalogPath, loadCatalog } from '../catalog/load.js';
import { answerWhy, matchError } from '../catalog/match.js';
import type { Painter } from '../report/text.js';
import { plain } from '../report/text.js';
import { renderWhyNothing, renderWhyNotTcp, renderWhyText, whyRecord, whySuggestion } from '../report/why-text.js';
import { writeOut } from './output.js';

export interface WhyOptions { json?: boolean; catalog?: string; color?: boolean; ladders?: boolean }

export function runWhy(text: string, opts: WhyOptions): number {
  const catalog = loadCatalog(opts.catalog ?? defaultCatalogPath());
  const painter: Painter = opts.color !== false && pc.isColorSupported ? pc : plain;
  const answer = answerWhy(catalog, text);
  const { matches, causes } = answer;
  const width = Math.max(60, Math.min(100, process.stdout.columns || 100));
  if (answer.notTcp) {
    if (opts.json) writeOut(JSON.stringify(whyRecord(text, matches, causes, answer)) + '\n');
    else writeOut(renderWhyNotTcp(text, answer, painter, width - 3) + '\n');
    return 0;
  }
  if (!matches.length) {
    const suggestion = whySuggestion(matchError(catalog, text, { min: 0.15 }).slice(0, 3));
    if (opts.json) writeOut(JSON.stringify({ ...whyRecord(text, matches, causes, answer), suggestion }) + '\n');
    else writeOut(renderWhyNothing(text, catalog, suggestion));
    return 1;
  }
  if (opts.json) writeOut(JSON.stringify(whyRecord(text, matches, causes, answer)) + '\n');
  else writeOut(renderWhyText(text, matches, causes, painter, { ladders: opts.ladders !== false, width: width - 3, context: answer }) + '\n');
  return 0;
}
