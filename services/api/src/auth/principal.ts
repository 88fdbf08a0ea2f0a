/** Who a request acts for, decided once per request by the authentication hook. */
export interface RequestPrincipal {
  /** Token holders: their tenant. Anonymous clients: "local" (loopback) or "anonymous" (auth off). */
  tenant: string;
  admin: boolean;
  /** No token: a loopback client in loopback mode, or anyone with auth off. Not rate limited. */
  anonymous: boolean;
  tokenId?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: RequestPrincipal;
    /** What the route needs (auth/access-policy.ts), decided with the principal. */
    access: import('./access-policy.ts').Access;
  }
}
