import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Figures = Record<string, number>;

/**
 * Keeps one test file's figures for `npm run chaos`, which sets CHAOS_FIGURES_DIR and sums the
 * parts into bench-results/chaos.json. Under plain `npm test` nothing is written.
 */
export function recordFigures(part: string, figures: Figures): void {
  const directory = process.env['CHAOS_FIGURES_DIR'];
  if (!directory) return;
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, `${part}.json`), `${JSON.stringify(figures)}\n`);
}

/** Counters that add up across the tests of one file. */
export class FigureCounter {
  private readonly figures: Figures = {};

  add(name: string, amount = 1): void {
    this.figures[name] = (this.figures[name] ?? 0) + amount;
  }

  get(name: string): number {
    return this.figures[name] ?? 0;
  }

  snapshot(): Figures {
    return { ...this.figures };
  }
}
