/** A status code module code set (ctx.response().status, ctx.upstream().status): an integer 100-999, else RangeError. */
export function checkedStatus(code: unknown): number {
  const n = Number(code);
  if (!Number.isInteger(n) || n < 100 || n > 999) throw new RangeError(`status: invalid status code ${String(code)}`);
  return n;
}
