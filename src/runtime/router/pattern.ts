import { invalidField } from '../../core/errors.js';

/**
 * One piece of a route pattern such as `/files/{name}.{ext:[a-z]+}/*`, in pattern order:
 * static text, a `{name}` / `{name:regex}` param, or the trailing `*` catch-all.
 */
export type PatternToken =
  | { readonly kind: 'static'; readonly text: string }
  | { readonly kind: 'param'; readonly name: string; readonly regex: RegExp | null; readonly regexSource: string }
  | { readonly kind: 'catch-all' };

/** Name under which the catch-all's value is exposed, as in chi. */
export const CATCH_ALL_PARAM = '*';

/**
 * Splits a route pattern into tokens, rejecting anything the router cannot serve unambiguously.
 * Errors are 400s about the route's `paths` field and quote the pattern.
 */
export function parsePattern(pattern: string): PatternToken[] {
  const fail = (problem: string) => invalidField('paths', `invalid route pattern '${pattern}': ${problem}`);
  if (!pattern.startsWith('/')) throw fail("must begin with '/'");

  const tokens: PatternToken[] = [];
  const names = new Set<string>();
  const addName = (name: string) => {
    if (names.has(name)) throw fail(`duplicate param name '${name}'`);
    names.add(name);
  };
  // Two adjacent wildcards (`{a}{b}`, `{a}*`) leave no text to tell where the first one ends.
  const requireStaticBefore = (what: string) => {
    const prev = tokens[tokens.length - 1];
    if (prev !== undefined && prev.kind !== 'static') throw fail(`${what} must be separated from the previous param by static text`);
  };

  let staticStart = 0;
  const flushStatic = (end: number) => {
    if (end > staticStart) tokens.push({ kind: 'static', text: pattern.slice(staticStart, end) });
  };

  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '{') {
      flushStatic(i);
      // Braces nest so that regexes like `{id:[0-9]{3}}` keep their quantifiers.
      let depth = 1;
      let j = i + 1;
      while (j < pattern.length && depth > 0) {
        if (pattern[j] === '{') depth++;
        else if (pattern[j] === '}') depth--;
        j++;
      }
      if (depth > 0) throw fail("unbalanced '{'");
      const inner = pattern.slice(i + 1, j - 1);
      const colon = inner.indexOf(':');
      const name = colon < 0 ? inner : inner.slice(0, colon);
      // chi accepts `{}`, an unnamed param (DGate's own test scripts use it); unnamed with a regex is refused.
      if (name === '' && inner !== '') throw fail(`param '{${inner}}' has no name`);
      if (name.includes('/') || name.includes('{') || name.includes('}')) throw fail(`invalid param name '${name}'`);
      // Params become keys of a plain object; this one would replace its prototype instead.
      if (name === '__proto__') throw fail(`invalid param name '${name}'`);
      requireStaticBefore(`param '{${inner}}'`);
      addName(name);
      if (colon < 0) {
        tokens.push({ kind: 'param', name, regex: null, regexSource: '' });
      } else {
        const source = inner.slice(colon + 1);
        tokens.push({ kind: 'param', name, regex: compileParamRegex(source, name, fail), regexSource: source });
      }
      i = j;
      staticStart = j;
    } else if (c === '}') {
      throw fail("unbalanced '}'");
    } else if (c === '*') {
      if (i !== pattern.length - 1) throw fail("'*' is only allowed as the last character");
      flushStatic(i);
      requireStaticBefore("'*'");
      addName(CATCH_ALL_PARAM);
      tokens.push({ kind: 'catch-all' });
      i++;
      staticStart = i;
    } else {
      i++;
    }
  }
  flushStatic(pattern.length);
  return tokens;
}

/** A `{name:regex}` param must match its whole value, so the regex is anchored at both ends. */
function compileParamRegex(source: string, name: string, fail: (problem: string) => Error): RegExp {
  if (source === '') throw fail(`param '${name}' has an empty regex`);
  try {
    // Compiled alone first: a source such as `a)|(b` is only valid once wrapped, and would
    // then escape the anchors.
    new RegExp(source);
    return new RegExp(`^(?:${source})$`);
  } catch (err) {
    throw fail(`invalid regex for param '${name}': ${(err as Error).message}`);
  }
}
