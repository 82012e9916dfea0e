/**
 * A checker of the Prometheus text exposition format (0.0.4) for tests: every line is a HELP or TYPE
 * comment or a sample matching the grammar, samples follow their family's TYPE, and a histogram's
 * buckets are cumulative and end with `+Inf` equal to its `_count`. Returns the samples parsed, so a test
 * can look values up by name and labels.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE}`;
const VALUE = '(?:[+-]?(?:\\d+\\.?\\d*(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?)|[+-]Inf|NaN)';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*,?)?\\})? (${VALUE})(?: -?\\d+)?$`);
const HELP = new RegExp(`^# HELP (${NAME}) (?:[^\\\\\\n]|\\\\[\\\\n])*$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);

const unescape = (v: string) => v.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));

/** Parse `text`, throwing with the line number on the first line that breaks the grammar. */
export function parseExposition(text: string): Sample[] {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, i) => {
      const fail = (why: string) => {
        throw new Error(`line ${i + 1}: ${why}: ${JSON.stringify(line)}`);
      };
      if (line.startsWith('# HELP ')) return void (HELP.test(line) || fail('bad HELP'));
      const type = TYPE.exec(line);
      if (type) {
        if (types.has(type[1]!)) fail('second TYPE for a family');
        return void types.set(type[1]!, type[2]!);
      }
      if (line.startsWith('#')) return;
      const m = SAMPLE.exec(line);
      if (!m) return fail('not a sample');
      const name = m[1]!;
      const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((n) => types.has(n));
      if (!family) fail('sample before its TYPE');
      if (types.get(family!) === 'histogram' && !/_(bucket|sum|count)$/.test(name)) fail('histogram sample without a suffix');
      const labels: Record<string, string> = {};
      for (const pair of (m[2] ?? '').matchAll(new RegExp(`([a-zA-Z_][a-zA-Z0-9_]*)=(${LABEL_VALUE})`, 'g'))) {
        if (Object.hasOwn(labels, pair[1]!)) fail(`label ${pair[1]} twice`);
        labels[pair[1]!] = unescape(pair[2]!.slice(1, -1));
      }
      const v = m[3]!;
      samples.push({ name, labels, value: v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v) });
    });
  checkHistograms(samples, types);
  return samples;
}

/** Buckets of each histogram series never decrease and the `+Inf` bucket equals `_count`. */
function checkHistograms(samples: readonly Sample[], types: ReadonlyMap<string, string>): void {
  const series = new Map<string, { buckets: Sample[]; count?: number }>();
  for (const s of samples) {
    const family = s.name.replace(/_(bucket|count)$/, '');
    if (types.get(family) !== 'histogram' || s.name.endsWith('_sum')) continue;
    const { le, ...rest } = s.labels;
    const key = `${family}${JSON.stringify(Object.entries(rest).sort())}`;
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${s.name} without le`);
      entry.buckets.push(s);
    } else entry.count = s.value;
  }
  for (const [key, { buckets, count }] of series) {
    const les = buckets.map((b) => (b.labels.le === '+Inf' ? Infinity : Number(b.labels.le)));
    if (les.at(-1) !== Infinity) throw new Error(`${key}: last bucket is not +Inf`);
    for (let i = 1; i < buckets.length; i++) {
      if (!(les[i]! > les[i - 1]!) || buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${key}: buckets not cumulative`);
    }
    if (buckets.at(-1)!.value !== count) throw new Error(`${key}: +Inf bucket ${buckets.at(-1)!.value} ≠ count ${count}`);
  }
}

/** The value of the sample named `name` whose labels include `labels` (undefined if none). */
export function sampleValue(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
