// Errors the API turns into Docker's `{"message": ...}` bodies with the matching status code.
export class ApiError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, message);
export const notFound = (message: string): ApiError => new ApiError(404, message);
export const conflict = (message: string): ApiError => new ApiError(409, message);
export const notModified = (): ApiError => new ApiError(304, '');
export const serverError = (message: string): ApiError => new ApiError(500, message);
