// The UI's one way to the server: fetch with the signed-in user's key, JSON or a clear error.
// The key lives in sessionStorage (this tab only) and goes in the Authorization header, never in
// a cookie, so another site cannot make the browser send it (no CSRF).

const STORAGE = "shipyard.authorization";

export class AuthRequired extends Error {}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function signIn(user, token) {
  const value = user ? "Basic " + btoa(unescape(encodeURIComponent(`${user}:${token}`))) : `Bearer ${token}`;
  sessionStorage.setItem(STORAGE, value);
}

export function signOut() {
  sessionStorage.removeItem(STORAGE);
}

export function isSignedIn() {
  return sessionStorage.getItem(STORAGE) !== null;
}

export async function request(path, { method = "GET", query, body } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const headers = { "X-Shipyard-UI": "1" };
  const auth = sessionStorage.getItem(STORAGE);
  if (auth) headers.Authorization = auth;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit",
  });
  if (response.status === 401) throw new AuthRequired(await message(response));
  if (!response.ok) throw new ApiError(response.status, await message(response));
  return response;
}

export async function getJson(path, query) {
  return (await request(path, { query })).json();
}

export async function postJson(path, body) {
  return (await request(path, { method: "POST", body })).json();
}

async function message(response) {
  const text = await response.text();
  try {
    const data = JSON.parse(text);
    return data.message || data.error || text;
  } catch {
    return text || `${response.status} ${response.statusText}`;
  }
}
