export { startTestS3, type TestS3 } from './s3-server.ts';
export { type CuttingProxy, startCuttingProxy } from './cutting-proxy.ts';
