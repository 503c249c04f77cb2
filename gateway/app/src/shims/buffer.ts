/** Buffer for the protocol module's base64 and byte handling (the `buffer` package, as Node's). */
export { Buffer } from 'buffer/';
