// realtime-magic's browser client, for pages written for it: a classic script
// that defines `realtimeMagic.Client` as the original did, so that its page code
// runs unchanged (`new realtimeMagic.Client(url)`, `onopen`, `onmessage` with the
// bare message, `onclose`, `subscribe`, `unsubscribe`, `publish`, `send`), over
// SockJS. Underneath it is rx-streamer's pub/sub client (pubsub.js beside this
// file), so it also comes back by itself after a drop, subscribed again to its
// channels with what it missed: `onclose` when the connection is lost, `onopen`
// when it is back. A page that made a new Client in its `onclose` should stop
// doing so (or `close()` the old one). It uses the page's SockJS, or, when the
// page has none, loads the copy the server serves beside the endpoint. Types:
// realtime-magic.d.ts beside this file.
(() => {
  // Beside this script, by its absolute URL: a script from another origin has no base URL.
  const here = document.currentScript?.src || location.href;
  const pubsub = import(new URL('pubsub.js', here).href);
  const sockJsLoads = new Map();

  /** The page's SockJS, or the server's copy at `<endpoint>/sockjs.min.js`, loaded once. */
  function sockJs(url) {
    if (typeof globalThis.SockJS === 'function') return Promise.resolve(globalThis.SockJS);
    const script = new URL(url, location.href);
    script.pathname = `${script.pathname.replace(/\/+$/, '')}/sockjs.min.js`;
    script.search = '';
    script.hash = '';
    if (!sockJsLoads.has(script.href)) {
      const loaded = new Promise((resolve, reject) => {
        const tag = document.createElement('script');
        tag.src = script.href;
        tag.onload = () => resolve(globalThis.SockJS);
        tag.onerror = () => reject(new Error(`sockjs-client could not be loaded from ${tag.src}`));
        document.head.append(tag);
      });
      sockJsLoads.set(script.href, loaded);
    }
    return sockJsLoads.get(script.href);
  }

  /**
   * `url`: the SockJS endpoint (`http://host/pubsub/`). With `'send_cookies_insecurely'`
   * and `cookies` (`name=value`), that frame is sent on every open for the
   * server's receivers, as the original sent it.
   */
  function Client(url, sendCookiesInsecurely, cookies) {
    let inner;
    let closed = false;
    /** Calls made before pubsub.js and SockJS are loaded, replayed once they are. */
    const waiting = [];
    const withInner = (fn) => (inner ? fn(inner) : void waiting.push(fn));

    const client = {
      onopen() {},
      /** A channel's message as it was published (a string, an object…), and the channel. */
      onmessage() {},
      onclose() {},
      /** Acknowledgements and refusals (`{content, error}`); by default refusals are logged. */
      oncontrol(control) {
        if (control.error) console.warn('realtime-magic:', control.content);
      },
      subscribe(channel) {
        withInner((c) => {
          // Its channels are subscribed again on every open: a page that subscribes in
          // `onopen` is not sent twice.
          if (!c.channels.includes(channel)) c.subscribe(channel);
        });
      },
      unsubscribe(channel) {
        withInner((c) => c.unsubscribe(channel));
      },
      publish(channel, message) {
        withInner((c) => c.publish(channel, message));
      },
      /** Sends any frame, JSON-encoded, for the server's receivers. */
      send(message) {
        withInner((c) => c.send(message));
      },
      execute(action, payload) {
        withInner((c) => c.send({ action, payload }));
      },
      /** Closes the connection for good. */
      close() {
        closed = true;
        inner?.close();
      },
    };

    Promise.all([pubsub, sockJs(url)]).then(
      ([{ connect }, SockJS]) => {
        if (closed) return;
        inner = connect(url, { createSocket: (u) => new SockJS(u) });
        let open = false;
        inner.on('state', (state) => {
          if (state === 'open') {
            open = true;
            if (sendCookiesInsecurely === 'send_cookies_insecurely')
              inner.send({ action: 'set_debug_session', payload: cookies });
            client.onopen();
          } else if (open) {
            open = false;
            client.onclose();
          }
        });
        inner.on('message', ({ channel, message }) => client.onmessage(message, channel));
        // Anything else the server sends (its receivers' replies) is passed on as it came.
        inner.on('frame', (frame) => client.onmessage(frame));
        inner.on('control', (control) => client.oncontrol(control));
        for (const fn of waiting.splice(0)) fn(inner);
      },
      (err) => {
        console.error('realtime-magic:', err);
        client.onclose();
      },
    );
    return client;
  }

  globalThis.realtimeMagic = { Client };
})();
