// The part of sockjs-client (no typings of its own) the Node tests use.
declare module 'sockjs-client' {
  interface SockJSOptions {
    transports?: string | string[];
  }
  class SockJS {
    constructor(url: string, reserved?: null, options?: SockJSOptions);
    readonly transport: string;
    /** WebSocket's values: 0 connecting, 1 open, 2 closing, 3 closed. */
    readonly readyState: number;
    onopen: (() => void) | null;
    onmessage: ((event: { data: string }) => void) | null;
    onclose: ((event: { code: number; reason: string }) => void) | null;
    send(data: string): void;
    close(code?: number, reason?: string): void;
  }
  export default SockJS;
}
