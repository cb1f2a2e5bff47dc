// Types of /clients/realtime-magic.js, realtime-magic's browser client on
// rx-streamer: a classic script that defines the global `realtimeMagic`.

declare namespace realtimeMagic {
  /** `{"controlMessage":true,…}` from the server: acknowledgements, and refusals with `error`. */
  interface Control {
    readonly content: string;
    readonly error: boolean;
  }

  interface Client {
    /** On every open: the first, and each after a lost connection came back. */
    onopen: () => void;
    /**
     * A channel's message as it was published (a string stays a string, an
     * object is an object), with its channel; or any other frame the server's
     * receivers send, as it came, with no channel.
     */
    onmessage: (message: unknown, channel?: string) => void;
    /** When an open connection is lost (it comes back by itself), and on `close()`. */
    onclose: () => void;
    /** Acknowledgements and refusals; by default refusals go to `console.warn`. */
    oncontrol: (control: Control) => void;
    /** Holds a channel, now and after every reconnect; once, however often it is called. */
    subscribe(channel: string): void;
    unsubscribe(channel: string): void;
    publish(channel: string, message: unknown): void;
    /** Sends any frame, JSON-encoded, for the server's receivers. */
    send(message: unknown): void;
    /** Sends `{"action":action,"payload":payload}`. */
    execute(action: string, payload: unknown): void;
    /** Closes the connection for good. */
    close(): void;
  }

  interface ClientConstructor {
    /**
     * Connects over SockJS to `url` (`http://host/pubsub/`). With
     * `'send_cookies_insecurely'`, `{"action":"set_debug_session","payload":cookies}`
     * is sent on every open, for the server's receivers.
     */
    new (url: string, sendCookiesInsecurely?: string, cookies?: string): Client;
  }

  const Client: ClientConstructor;
}
