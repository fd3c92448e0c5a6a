export { startTestS3, type TestS3 } from './s3-server.ts';
