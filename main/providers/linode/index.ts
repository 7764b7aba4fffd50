export { LinodeProvider, DEFAULT_IMAGE } from './linode-provider';
export { LinodeClient, linodeBaseUrl, LINODE_DEFAULT_URL, type LinodeOptions } from './client';
export { REQUIRED_SCOPES, missingScopes, parseScopes } from './errors';
