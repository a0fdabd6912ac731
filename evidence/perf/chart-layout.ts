// Where the perf report's axis labels go, computed before anything is drawn (the page has no
// script to measure text): an estimate of each label's width, tick labels spread over as many
// rows as it takes for none to overlap, compact tick numbers, and the "nines" axis of the
// percentile curves, on which p99, p99.9 and max stand apart instead of within 1 % of the width.

/** Width of a character in em for a sans-serif UI font, rounded up (wide letters, digits, narrow ones). */
function charEm(c: string): number {
  if (/[mwMW@%]/.test(c)) return 0.92;
  if (/[A-Z]/.test(c)) return 0.72;
  if (/[0-9]/.test(c)) return 0.6;
  if (/[il.,:;'|!jtfr ()[\]]/.test(c)) return 0.36;
  return 0.6;
}

/** An upper estimate of a label's rendered width in px (Chromium's system-ui at `fontPx` measures below it). */
export function textWidth(label: string, fontPx: number): number {
  return [...label].reduce((w, c) => w + charEm(c), 0) * fontPx;
}

export interface PlacedLabel {
  x: number;
  label: string;
  /** 0 = the row next to the axis, 1 = the next one out, ... */
  row: number;
}

/**
 * Tick labels centred on their x, each in the first row where it keeps `gapPx` from the label
 * before it; a label is moved inwards to stay within [minX, maxX]. Labels are placed in x order.
 */
export function layoutTickLabels(ticks: Array<[number, string]>, o: { fontPx: number; gapPx?: number; minX?: number; maxX?: number }): PlacedLabel[] {
  const gap = o.gapPx ?? 6;
  const rowsRight: number[] = [];
  return [...ticks]
    .sort((a, b) => a[0] - b[0])
    .map(([x0, label]) => {
      const half = textWidth(label, o.fontPx) / 2;
      const x = Math.min(Math.max(x0, (o.minX ?? -Infinity) + half), (o.maxX ?? Infinity) - half);
      let row = rowsRight.findIndex((right) => x - half >= right + gap);
      if (row === -1) row = rowsRight.length;
      rowsRight[row] = x + half;
      return { x, label, row };
    });
}

/** How many rows a layout uses. */
export const rowsOf = (placed: PlacedLabel[]): number => placed.reduce((n, p) => Math.max(n, p.row + 1), 1);

/** A tick value in at most five characters: 0.25, 12.5, 950, 12.5k, 1.2M. */
export function compactNumber(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}

/** Where the maximum stands on the nines axis: one decade beyond p99.9, the last finite percentile charted. */
export const NINES_MAX = 4;

/**
 * A percentile's position on a "nines" axis, -log10(1 - p/100): p0 at 0, p90 at 1, p99 at 2,
 * p99.9 at 3, the maximum (p100, infinitely far) at NINES_MAX. Latency tails live in the last
 * percent, which a linear axis squeezes into a few pixels.
 */
export function ninesPosition(percentile: number): number {
  if (percentile >= 100) return NINES_MAX;
  return Math.min(-Math.log10(1 - percentile / 100), NINES_MAX - 0.5);
}
