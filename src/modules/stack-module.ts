/**
 * Which module of a namespace a stack trace points into: module code is compiled with the file
 * name `dgate://<namespace>/<module>.<ts|js>` (compile.ts), so the innermost frame with that
 * prefix names the module. null when no frame of the namespace's modules is on the stack.
 */
export function moduleInStack(stack: string, namespace: string): string | null {
  const prefix = `dgate://${namespace}/`;
  let at = stack.indexOf(prefix);
  while (at >= 0) {
    const start = at + prefix.length;
    // names have no whitespace or "/": the file name ends at the first whitespace or ")"
    let end = start;
    while (end < stack.length && !/[\s)]/.test(stack[end]!)) end++;
    const m = /^(.+?)\.(?:ts|js)(?::\d+){0,2}$/.exec(stack.slice(start, end));
    if (m !== null) return m[1]!;
    at = stack.indexOf(prefix, end);
  }
  return null;
}

/**
 * The module whose code called the function this is called from (console.* of a namespace's
 * shared global scope cannot tell otherwise). A stack capture costs microseconds: callers do it
 * only when the line goes somewhere. The few innermost frames are enough (the module frame is
 * right under the console call), so the capture is kept short.
 */
export function callingModule(namespace: string): string | null {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 12;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return moduleInStack(stack, namespace);
}

/**
 * A stack trace shown to module authors: the message and the frames down to the innermost
 * module frame (the gateway's own frames under it say nothing about their code).
 */
export function moduleFrames(stack: string): string {
  const lines = stack.split('\n');
  let last = 0;
  for (let i = 0; i < lines.length; i++) if (lines[i]!.includes('dgate://')) last = i;
  if (last === 0) {
    // no module frame: the message lines (those before the first frame)
    const first = lines.findIndex((l) => /^\s+at /.test(l));
    return (first < 0 ? lines : lines.slice(0, first)).join('\n');
  }
  return lines.slice(0, last + 1).join('\n');
}
