// The one duration format of the lab, everywhere a duration is read (the config file, ECM_LAB_*
// variables, every CLI option): Go's time.Duration syntax, as step-ca reads its own settings —
// "1m30s", "90s", "1500ms", "2h", "1.5h". What older versions read is still read: a bare number
// where an option or a key took one (milliseconds for the *Ms keys, --interval and the latency
// thresholds; seconds for load's time options), and single-unit strings, which are Go durations.

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
const BARE = /^(\d+(?:\.\d+)?)$/;

/** What a bare number means where the duration is read; 'none': a unit is required. */
export type BareUnit = 'ms' | 's' | 'none';

/** A duration or a bare number, as a JSON Schema pattern (the config's duration keys). */
export const DURATION_PATTERN = '^(\\d+(\\.\\d+)?|((\\d+(\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h))+)$';

export const DURATION_HINT = 'a duration such as 1m30s, 90s, 1500ms or 2h';

export class DurationError extends Error {
  override name = 'DurationError';
}

/** Milliseconds of a Go duration ("1h30m", "250ms"), or undefined when the text is not one. */
function goDuration(text: string): number | undefined {
  if (text === '0') return 0;
  let ms = 0;
  let at = 0;
  PART.lastIndex = 0;
  while (at < text.length) {
    PART.lastIndex = at;
    const m = PART.exec(text);
    if (!m) return undefined;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    at = PART.lastIndex;
  }
  return at === 0 ? undefined : ms;
}

/**
 * Milliseconds of a duration (fractions kept: a latency threshold may be 0.5ms). `bare` says what a number without a unit means there
 * (what that option or key read before durations had one format); 'none' refuses it.
 */
export function parseDuration(text: string, bare: BareUnit = 'none'): number {
  const t = text.trim();
  const plain = BARE.exec(t);
  if (plain && t !== '0') {
    if (bare === 'none') throw new DurationError(`"${text}" has no unit: use ${DURATION_HINT}`);
    return Number(plain[1]) * (bare === 's' ? 1000 : 1);
  }
  const ms = goDuration(t);
  if (ms === undefined) throw new DurationError(`"${text}" is not ${DURATION_HINT}`);
  return ms;
}

/** A Go duration with units, as step-ca reads its own settings ("24h", "1h30m"), as a JSON Schema pattern. */
export const GO_DURATION_PATTERN = '^((\\d+(\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h))+$';

/**
 * A config value counted in `unit`: a number of that unit (as such a key always read) or a
 * duration string, converted to that unit ("2m" for a key in seconds is 120).
 */
export function durationValue(value: number | string, unit: 'ms' | 's'): number {
  if (typeof value === 'number') return value;
  return Math.round(parseDuration(value, unit) / (unit === 'ms' ? 1 : 1000));
}
