/**
 * The one error path of the service (API.md "Conventions"): every failure becomes
 * `{"error":"EINVAL","errno":22,"message":"…"}` with the status the contract gives the errno.
 * Never a 500 for bad input: anything a client can cause maps to a 4xx here.
 */
import { SimError } from '../cpus/sim-api.js';
import { E2BIG, EACCES, EAGAIN, EBUSY, EINVAL, EIO, ENOENT, EOVERFLOW } from '../mm/errno.js';
import { UapiValueError } from './uapi.js';

/**
 * (Every bad-input error class of the HTTP layer extends `UapiValueError`.)
 *
 * Linux errno numbers of the errors the HTTP layer raises itself (schema failures, limits,
 * overload, unknown routes). Engine errors arrive already named, as `SimError`.
 */
export const HTTP_ERRNO = { ENOENT, E2BIG, EIO, EAGAIN, EACCES, EBUSY, EINVAL, EOVERFLOW } as const;
export type HttpErrnoName = keyof typeof HTTP_ERRNO;

const STATUS_BY_ERRNO_NAME: Record<string, number> = {
  EINVAL: 400,
  E2BIG: 400,
  ENAMETOOLONG: 400,
  EOVERFLOW: 400,
  EBADF: 400,
  EFAULT: 400,
  ENOTTY: 400,
  EPERM: 403,
  EACCES: 403,
  ESRCH: 404,
  ENOENT: 404,
  EEXIST: 409,
  ENOMEM: 409,
  EAGAIN: 429,
  EBUSY: 503,
};

/** HTTP status for an errno name; unknown errnos are still the kernel answering bad input: 400. */
export function statusForErrno(code: string): number {
  return STATUS_BY_ERRNO_NAME[code] ?? 400;
}

export interface ErrorBody {
  error: string;
  errno: number;
  message: string;
}

/** A SimError built by the HTTP layer for one of its own errnos. */
export function httpError(code: HttpErrnoName, message: string): SimError {
  return new SimError(HTTP_ERRNO[code], code, message);
}

export function errorBody(e: SimError): ErrorBody {
  return { error: e.code, errno: e.errno, message: e.message };
}

/** Shape of the errors fastify and its plugins throw (validation, body parser, limits). */
interface FastifyLikeError extends Error {
  code?: string;
  statusCode?: number;
  validation?: unknown[];
  validationContext?: string;
}

/**
 * Classifies any thrown value: `{status, body}` for the reply. Returns status 500 only for errors
 * that no client input can cause (bugs); the caller logs those.
 */
export function toErrorReply(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof SimError) {
    return { status: statusForErrno(err.code), body: errorBody(err) };
  }
  if (err instanceof UapiValueError) {
    const code = err.code;
    return {
      status: 400,
      body: { error: code, errno: HTTP_ERRNO[code], message: err.message },
    };
  }
  const e = err as FastifyLikeError;
  if (e?.validation) {
    return {
      status: 400,
      body: { error: 'EINVAL', errno: HTTP_ERRNO.EINVAL, message: e.message },
    };
  }
  if (e?.statusCode === 413 || e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return {
      status: 413,
      body: { error: 'E2BIG', errno: HTTP_ERRNO.E2BIG, message: e.message },
    };
  }
  if (e?.statusCode === 503 || e?.code === 'FST_UNDER_PRESSURE') {
    return {
      status: 503,
      body: { error: 'EBUSY', errno: HTTP_ERRNO.EBUSY, message: e.message },
    };
  }
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return {
      status: 415,
      body: {
        error: 'EINVAL',
        errno: HTTP_ERRNO.EINVAL,
        message: 'unsupported Content-Type: send JSON (application/json)',
      },
    };
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    // Malformed JSON, wrong content type, empty body, …: all client errors.
    return {
      status: e.statusCode,
      body: { error: 'EINVAL', errno: HTTP_ERRNO.EINVAL, message: e.message },
    };
  }
  return {
    status: 500,
    body: { error: 'EIO', errno: HTTP_ERRNO.EIO, message: 'internal error' },
  };
}
