// @simplewebauthn/server, loaded when a security key is first made or used: it and what it
// brings hold about 20 MiB, for an instance whose people may never add a key.
export const webAuthn = (): Promise<typeof import('@simplewebauthn/server')> => import('@simplewebauthn/server');
