/**
 * Splits the argument list strace prints for one call at its top-level commas. Commas inside
 * strings (`"a,b"`), structures (`{...}`, `[...]`) and `-y` paths (`3</a,b>`) belong to their
 * argument. Arguments come back trimmed.
 */
export function splitArgs(s: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  let inPath = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (inPath) {
      // A path runs to the '>' that ends the argument (paths may hold '>' themselves).
      if (c === '>' && (i + 1 === s.length || s[i + 1] === ',')) inPath = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '<' && /\d$/.test(s.slice(start, i))) inPath = true;
    else if (c === '{' || c === '[' || c === '(') depth++;
    else if (c === '}' || c === ']' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      args.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = s.slice(start).trim();
  if (last !== '' || args.length > 0) args.push(last);
  return args;
}
