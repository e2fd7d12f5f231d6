// A standards OpenID Provider (the npm oidc-provider) configured for Hotdesk's agent, for the interoperability test.
//
//   node provider.mjs --cert FILE --key FILE --client-jwks-uri URL [--client-id ID] [--port N]
//                     [--ignore-requested-sub] [--ciba-decision approve|deny|none]
//
// Listens with TLS on 127.0.0.1 (port 0: any free port) and prints
// "issuer https://127.0.0.1:PORT" on stdout once it serves. Set
// NODE_EXTRA_CA_CERTS to the CA of the client's jwks_uri (the DAS).
// OpenID CIBA (poll mode) is on: each backchannel request prints
// "ciba BINDING_MESSAGE LOGIN_HINT" and is approved at once, denied, or left
// unanswered, as --ciba-decision says (default approve).
// Configuration reference: oidc-provider 9.x docs/README.md, "Configuration options".
import { randomBytes, randomUUID, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { parseArgs } from 'node:util';

import Provider, { errors, interactionPolicy } from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    cert: { type: 'string' },
    key: { type: 'string' },
    'client-jwks-uri': { type: 'string' },
    'client-id': { type: 'string', default: 'hotdesk-agent' },
    port: { type: 'string', default: '0' },
    'ignore-requested-sub': { type: 'boolean', default: false },
    'ciba-decision': { type: 'string', default: 'approve' },
  },
});
if (!['approve', 'deny', 'none'].includes(args['ciba-decision'])) {
  console.error('provider.mjs: --ciba-decision is approve, deny or none');
  process.exit(2);
}
for (const required of ['cert', 'key', 'client-jwks-uri']) {
  if (!args[required]) {
    console.error(`provider.mjs: --${required} is required (see the usage at the top of the file)`);
    process.exit(2);
  }
}

// The ID-token signing key: ES256, made at every start (a test provider keeps no state).
const signingKey = {
  ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
  kid: randomUUID(),
  use: 'sig',
  alg: 'ES256',
};

const configuration = {
  clients: [{
    client_id: args['client-id'],
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'urn:openid:params:grant-type:ciba'],
    backchannel_token_delivery_mode: 'poll',
    backchannel_authentication_request_signing_alg: 'ES256',
    response_types: ['code'],
    // RFC 8252 §7.3: for a native client the port of a loopback redirect is not compared.
    redirect_uris: ['http://127.0.0.1/callback'],
    // The request-object keys are the DAS's (it signs for the agent).
    jwks_uri: args['client-jwks-uri'],
    request_object_signing_alg: 'ES256',
    require_signed_request_object: true,
    id_token_signed_response_alg: 'ES256',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    // A login form that takes any login (the account id) and a consent page.
    devInteractions: { enabled: true },
    claimsParameter: { enabled: true },
    requestObjects: { enabled: true, requireSignedRequestObject: true },
    // CIBA in poll mode. validateBindingMessage keeps its default: the rule
    // Hotdesk's binding message (the number to match) must pass.
    ciba: {
      enabled: true,
      deliveryModes: ['poll'],
      processLoginHint: (_ctx, loginHint) => loginHint,
      validateRequestContext: async () => {},
      verifyUserCode: async () => {},
      triggerAuthenticationDevice: async (_ctx, request, account, client) => {
        console.log(`ciba ${request.params.binding_message} ${account.accountId}`);
        // After the answer that names auth_req_id has gone: the phone decides a moment later.
        setImmediate(() => decide(request, account, client).catch((error) => console.error('provider: ciba:', error)));
      },
    },
  },
  pkce: { required: () => true },
  // The default account model: the login is the subject and the only claim.
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  // oidc-provider refuses outgoing requests to special-use addresses (SSRF
  // protection); the client's jwks_uri is the DAS on loopback here.
  fetch: (url, options) => {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
};

if (args['ignore-requested-sub']) {
  // A misbehaving provider, for the test: it signs in whoever logs in, whatever
  // claims.id_token.sub.value the request object asks for, so only the agent's
  // own check of sub stands between another account and the session.
  const policy = interactionPolicy.base();
  policy.get('login').checks.remove('claims_id_token_sub_value');
  configuration.interactions = { policy };
}

let provider;

// The phone of the test: approves with a grant for openid, denies, or never answers.
async function decide(request, account, client) {
  if (args['ciba-decision'] === 'deny') {
    await provider.backchannelResult(request, new errors.AccessDenied('denied on the phone'));
  } else if (args['ciba-decision'] === 'approve') {
    const grant = new provider.Grant({ accountId: account.accountId, clientId: client.clientId });
    grant.addOIDCScope('openid');
    await grant.save();
    await provider.backchannelResult(request, grant, { authTime: Math.floor(Date.now() / 1000) });
  }
}

const server = createServer({ cert: readFileSync(args.cert), key: readFileSync(args.key) });
server.listen(Number(args.port), '127.0.0.1', () => {
  const issuer = `https://127.0.0.1:${server.address().port}`;
  provider = new Provider(issuer, configuration);
  provider.on('server_error', (_ctx, error) => console.error('provider: server error:', error));
  provider.on('authorization.error', (_ctx, error) => console.error('provider: authorization error:', error.message, error.error_description ?? ''));
  provider.on('grant.error', (_ctx, error) => console.error('provider: token error:', error.message, error.error_description ?? ''));
  server.on('request', provider.callback());
  console.log(`issuer ${issuer}`);
});
server.on('error', (error) => {
  console.error(`provider.mjs: cannot listen on 127.0.0.1:${args.port}: ${error.message}`);
  process.exit(1);
});
process.on('SIGTERM', () => process.exit(0));
