// Number options of the developer tools (bin/sim, bin/jepsen): a bad value ends the process with one line naming
// the option and exit 2, before anything starts (Number() alone let "abc" through as NaN).

/** `value` as a whole number ≥ `min`, or exit 2. */
export function wholeNumber(name: string, value: string, min: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < min) {
    console.error(`--${name} must be a whole number ≥ ${min}, got ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return n;
}
