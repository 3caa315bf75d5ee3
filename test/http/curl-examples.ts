/**
 * Turns the curl examples of README.md into HTTP requests: just enough of the shell (quotes,
 * `$VAR`, `VAR=$(curl … | grep -o '"field":…' | cut …)`) and of curl (-s, -X, -H, -d, URL) for
 * the documented examples. A trailing `# expect NNN` gives the expected status; otherwise any
 * status below 400 passes.
 */

export interface CurlExample {
  line: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  expectStatus: number | null;
  /** `VAR=$(…)`: store this JSON field of the reply in VAR. */
  capture: { variable: string; field: string } | null;
}

/** Lines of ```sh blocks that run curl (comments and other commands are skipped). */
export function curlLines(markdown: string): string[] {
  const out: string[] = [];
  const blocks = markdown.split('```sh\n').slice(1);
  for (const block of blocks) {
    for (const raw of block.split('\n```')[0].split('\n')) {
      const line = raw.trim();
      if (line.startsWith('curl ') || /^[A-Z_]+=\$\(curl /.test(line)) out.push(line);
    }
  }
  return out;
}

/** Shell words with quotes removed and `$VAR` expanded (no globbing, no other expansions). */
function shellWords(s: string, vars: Record<string, string>): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  const expand = (i: number): [string, number] => {
    const m = /^\$([A-Z_]+)/.exec(s.slice(i));
    if (!m) return ['$', i + 1];
    const v = vars[m[1]];
    if (v === undefined) throw new Error(`$${m[1]} is not set when running: ${s}`);
    return [v, i + m[0].length];
  };
  for (let i = 0; i < s.length; ) {
    const c = s[i];
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      cur += s.slice(i + 1, end);
      i = end + 1;
      inWord = true;
    } else if (c === '"') {
      i++;
      while (s[i] !== '"') {
        if (s[i] === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\' || s[i + 1] === '$')) {
          cur += s[i + 1];
          i += 2;
        } else if (s[i] === '$') {
          const [v, next] = expand(i);
          cur += v;
          i = next;
        } else cur += s[i++];
      }
      i++;
      inWord = true;
    } else if (c === ' ') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
    } else if (c === '$') {
      const [v, next] = expand(i);
      cur += v;
      i = next;
      inWord = true;
    } else {
      cur += c;
      i++;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

export function parseCurl(line: string, vars: Record<string, string>, base: string): CurlExample {
  let cmd = line;
  let expectStatus: number | null = null;
  const expect = /\s+# expect (\d{3})$/.exec(cmd);
  if (expect) {
    expectStatus = Number(expect[1]);
    cmd = cmd.slice(0, expect.index);
  }
  let capture: CurlExample['capture'] = null;
  const assign = /^([A-Z_]+)=\$\((curl .+?) \| grep -o '"(\w+)":.*\)$/.exec(cmd);
  if (assign) {
    capture = { variable: assign[1], field: assign[3] };
    cmd = assign[2];
  }
  const words = shellWords(cmd, vars);
  let method = 'GET';
  const headers: Record<string, string> = {};
  let body: string | undefined;
  let url = '';
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (w === '-s') continue;
    if (w === '-X') method = words[++i];
    else if (w === '-H') {
      const [k, ...v] = words[++i].split(':');
      headers[k.trim().toLowerCase()] = v.join(':').trim();
    } else if (w === '-d') {
      body = words[++i];
      if (method === 'GET') method = 'POST';
    } else if (w.startsWith('-')) throw new Error(`unsupported curl option ${w} in: ${line}`);
    else url = w;
  }
  url = url.replace(/^(http:\/\/)?localhost:8080/, base);
  return { line, method, url, headers, body, expectStatus, capture };
}
