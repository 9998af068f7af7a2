/** Global IDs are base64url("Type:123"): opaque to clients, stable for us (the API's `id`, webhook payloads). */
export function encodeGlobalId(typename: string, id: bigint | number | string): string {
  return Buffer.from(`${typename}:${String(id)}`, 'utf8').toString('base64url');
}
