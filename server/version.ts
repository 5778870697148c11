// The release zkgate reports: srvr's version, mntr's zk_version, envi, the OpenAPI info and `zkgate --version`.
// package.json's version; a test keeps the two equal.
export const VERSION = '0.1.0';
