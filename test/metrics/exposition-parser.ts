// A small, strict parser of the Prometheus text exposition format (version 0.0.4), written for
// the tests so they check the text a scraper would read, not prom-client's objects.
// (Under dist/test it is also picked up by `node --test` as a file; it only exports functions.)

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  help: Map<string, string>;
  type: Map<string, string>;
  samples: Sample[];
}

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN' || text === 'Nan') return Number.NaN;
  const v = Number(text);
  if (text.trim() === '' || Number.isNaN(v)) throw new Error(`bad sample value ${text}`);
  return v;
}

/** Parse `{a="x",b="y\"z"}` starting at `s[at] === '{'`; returns labels and the index after `}`. */
function parseLabels(s: string, at: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = at + 1;
  while (s[i] !== '}') {
    const eq = s.indexOf('=', i);
    const name = s.slice(i, eq);
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new Error(`bad label name in ${s}`);
    if (s[eq + 1] !== '"') throw new Error(`unquoted label value in ${s}`);
    let j = eq + 2;
    let value = '';
    while (s[j] !== '"') {
      if (j >= s.length) throw new Error(`unterminated label value in ${s}`);
      if (s[j] === '\\') {
        const c = s[j + 1];
        value += c === 'n' ? '\n' : c;
        j += 2;
      } else {
        value += s[j++];
      }
    }
    if (name in labels) throw new Error(`duplicate label ${name} in ${s}`);
    labels[name] = value;
    i = j + 1;
    if (s[i] === ',') i++;
  }
  return { labels, end: i + 1 };
}

export function parseExposition(text: string): Exposition {
  const out: Exposition = { help: new Map(), type: new Map(), samples: [] };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      const rest = line.slice(7);
      const sp = rest.indexOf(' ');
      out.help.set(rest.slice(0, sp), rest.slice(sp + 1));
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      if (out.type.has(name)) throw new Error(`second TYPE line for ${name}`);
      out.type.set(name, type);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (m === null) throw new Error(`bad sample line: ${line}`);
    const name = m[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') {
      const parsed = parseLabels(line, i);
      labels = parsed.labels;
      i = parsed.end;
    }
    if (line[i] !== ' ') throw new Error(`bad sample line: ${line}`);
    out.samples.push({ name, labels, value: parseValue(line.slice(i + 1).split(' ')[0]) });
  }
  return out;
}

/** A stable key for a sample: name plus its labels sorted by name. */
export function seriesKey(sample: Pick<Sample, 'name' | 'labels'>): string {
  const labels = Object.keys(sample.labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(sample.labels[k])}`);
  return `${sample.name}{${labels.join(',')}}`;
}

/** The samples of metric family `family` (the family name and its _bucket/_sum/_count). */
export function samplesOf(exposition: Exposition, family: string): Sample[] {
  return exposition.samples.filter(
    (s) =>
      s.name === family ||
      s.name === `${family}_bucket` ||
      s.name === `${family}_sum` ||
      s.name === `${family}_count`,
  );
}

/** The value of the one sample named `name` whose labels include `labels`; throws if not one. */
export function sampleValue(
  exposition: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number {
  const hits = exposition.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (hits.length !== 1) {
    throw new Error(`${hits.length} samples match ${name}${JSON.stringify(labels)}`);
  }
  return hits[0].value;
}
