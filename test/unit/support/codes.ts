/** Error-code assertions for unit tests of chaincode code: a MedbridgeError with exactly this code. */
import { MedbridgeError, type ErrorCode } from '../../../chaincode/src/errors';

/** Asserts that `p` rejects with a MedbridgeError of `code`. */
export async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await expect(p).rejects.toMatchObject({ name: 'MedbridgeError', code });
}

/** Asserts that `fn` throws a MedbridgeError of `code`. */
export function expectCodeSync(fn: () => unknown, code: ErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(MedbridgeError);
  expect((thrown as MedbridgeError).code).toBe(code);
}
