/** Byte helpers of the page: base64 and SPKI export (WebCrypto hands out ArrayBuffers). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Bytes WebCrypto accepts (an ArrayBuffer-backed view). */
export type Bytes = Uint8Array<ArrayBuffer>;

/** A copy of any byte view that WebCrypto accepts (a Buffer from the protocol module, say). */
export function bytesOf(view: Uint8Array): Bytes {
  return new Uint8Array(view);
}

export function fromBase64(text: string): Bytes {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export async function exportSpkiBase64(key: CryptoKey): Promise<string> {
  return toBase64(new Uint8Array(await crypto.subtle.exportKey('spki', key)));
}

export async function sha256HexOf(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytesOf(bytes)));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A nonce of 144 random bits, base64url (the protocol's nonce format). */
export function newNonce(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(18))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
