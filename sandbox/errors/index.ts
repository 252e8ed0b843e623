export { ERROR_CODES, type ErrorCode, type ErrorKind, type ErrorCodeSpec } from './codes.ts';
export { LabError, isLabError, t, type LabErrorBody, type LabErrorOptions, type Lang, type Span } from './lab-error.ts';
