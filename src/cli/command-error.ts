/**
 * A command that could not finish, for a reason other than a usage mistake: exit code 1 and
 * the message on stderr. apply and export use it to say which item they stopped at; `cause`
 * keeps the underlying client error.
 */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}
