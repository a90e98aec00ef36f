/**
 * A mistake in the command line (or in a file it names): exit code 2, one line saying what is
 * wrong, then a pointer to the help of the command concerned.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** the words after "dgate-cli" whose --help explains the fix, e.g. "route create"; "" = the top level */
  readonly command: string;

  constructor(message: string, command = '') {
    super(message);
    this.command = command;
  }
}
