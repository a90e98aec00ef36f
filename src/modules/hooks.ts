/** The closed list of functions a module may export to take part in a request (DGate §3.4). */
export const HOOKS = ['fetchUpstream', 'requestModifier', 'responseModifier', 'errorHandler', 'requestHandler'] as const;
export type Hook = (typeof HOOKS)[number];

// Module code is operator-written JavaScript: these are the shapes the gateway calls.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HookFn = (ctx: any, error?: unknown) => unknown;

/** Hooks that every module of a route contributes to, in route order. */
export const CHAINED_HOOKS = ['requestModifier', 'responseModifier'] as const satisfies readonly Hook[];
/** Hooks that one function answers for the route; two different ones are a conflict. */
export const SINGLE_HOOKS = ['fetchUpstream', 'errorHandler', 'requestHandler'] as const satisfies readonly Hook[];
