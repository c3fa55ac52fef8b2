/**
 * A test that needs something this machine lacks fails, naming it; it never skips silently.
 * Call at the top of a describe (or a test): the suite then fails with the message.
 */
export function requirePrerequisite(available: boolean, what: string, howToGet: string): void {
  if (!available) throw new Error(`missing prerequisite: ${what} (${howToGet})`);
}
