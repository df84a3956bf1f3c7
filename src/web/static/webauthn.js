// The page's use of WebAuthn: turns touchpassd's EnrollOffer and Offer (src/ipc/PROTOCOL.md,
// "Ceremonies") into navigator.credentials.create() and get() calls, and the key's answers
// into the `finish` fields touchpass-web relays. Byte strings travel as base64url without
// padding. The PRF output (the hmac-secret output for prf.eval.first = prf_input) is S
// (DESIGN.md §5.2).
"use strict";

const TouchpassWebAuthn = (() => {
  // Thrown when the browser or the key gives no PRF (hmac-secret) result.
  class NoPrfError extends Error {
    constructor() {
      super(
        "This browser or security key does not support the PRF (hmac-secret) extension that " +
          "touchpass needs. Use a recent Chrome, Edge, Safari or Firefox with a FIDO2 security " +
          "key that supports hmac-secret, or use the touchpass command line on the server.",
      );
      this.name = "NoPrfError";
    }
  }

  // base64url without padding -> Uint8Array; throws on anything else.
  function fromBase64url(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
      throw new Error("The server sent a malformed byte string.");
    }
    const standard = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(standard + "=".repeat((4 - (standard.length % 4)) % 4));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  // ArrayBuffer, typed array or DataView -> base64url without padding.
  function toBase64url(data) {
    const bytes =
      data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // Whether the authenticator data of a new credential carries the extension output
  // "hmac-secret": true, which touchpassd requires. A key that offers PRF through CTAP's own
  // "prf" extension (passkey providers, phones) has the browser report prf.enabled without it.
  // Layout (WebAuthn §6.1): rpIdHash 32, flags 1, signCount 4, then with AT (0x40) aaguid 16,
  // credentialIdLength 2, credentialId, the COSE key (one CBOR item), then with ED (0x80) the
  // extensions (one CBOR map, the rest of the data).
  function hmacSecretEnabled(authData) {
    if (authData.length < 55) return false;
    const flags = authData[32];
    if ((flags & 0x40) === 0 || (flags & 0x80) === 0) return false;
    const idLength = (authData[53] << 8) | authData[54];
    const keyAt = 55 + idLength;
    if (keyAt >= authData.length) return false;
    const key = TouchpassCbor.decodeFirst(authData.subarray(keyAt));
    const extensions = TouchpassCbor.decode(authData.subarray(keyAt + key.length));
    return extensions instanceof Map && extensions.get("hmac-secret") === true;
  }

  // The clientDataJSON as the text the key signed: the finish field `client_data_json` is that
  // JSON text itself, not base64url (src/ipc/ceremony.h). The bytes are UTF-8; a fatal decoder
  // makes sure the text turns back into exactly these bytes.
  function clientDataText(buffer) {
    return new TextDecoder("utf-8", { fatal: true }).decode(buffer);
  }

  // Whether this browser has WebAuthn at all.
  function available() {
    return typeof window.PublicKeyCredential === "function" && !!navigator.credentials;
  }

  // Creates a credential for an EnrollOffer (kind "fido2") and returns the enroll `finish`
  // fields. Throws NoPrfError when the key or browser does not enable PRF / hmac-secret (the
  // caller must not finish then), and the browser's DOMException when it refuses or the person
  // cancels.
  async function enroll(offer) {
    if (offer.kind !== "fido2") throw new Error("This page can add only FIDO2 security keys.");
    const extensions = { prf: {}, hmacCreateSecret: true };
    if (offer.uv) {
      // Asked for, not enforced: a key without credProtect is still enrolled (touchpassd checks
      // the UV flag of every assertion of a credential enrolled with the PIN).
      extensions.credentialProtectionPolicy = "userVerificationRequired";
      extensions.enforceCredentialProtectionPolicy = false;
    }
    const credential = await navigator.credentials.create({
      publicKey: {
        rp: { id: offer.rp_id, name: offer.rp_name },
        user: {
          id: fromBase64url(offer.user_id),
          name: offer.user_name,
          displayName: offer.user_name,
        },
        challenge: fromBase64url(offer.challenge),
        pubKeyCredParams: [{ type: "public-key", alg: -7 }],
        authenticatorSelection: {
          userVerification: offer.uv ? "required" : "discouraged",
          residentKey: "discouraged",
          requireResidentKey: false,
        },
        attestation: "direct",
        timeout: 120000,
        extensions,
      },
    });
    const results = credential.getClientExtensionResults();
    const prfEnabled = results.prf && results.prf.enabled === true;
    if (!prfEnabled && results.hmacCreateSecret !== true) throw new NoPrfError();

    const attestation = TouchpassCbor.decode(new Uint8Array(credential.response.attestationObject));
    if (!(attestation instanceof Map)) throw new Error("The security key's attestation is malformed.");
    const format = attestation.get("fmt");
    const authData = attestation.get("authData");
    const statement = attestation.get("attStmt");
    if (typeof format !== "string" || !(authData instanceof Uint8Array) || !(statement instanceof Map)) {
      throw new Error("The security key's attestation is malformed.");
    }
    if (!hmacSecretEnabled(authData)) throw new NoPrfError();
    const fields = {
      ceremony: offer.ceremony,
      credential: toBase64url(credential.rawId),
      authenticator_data: toBase64url(authData),
      attestation_format: format,
      client_data_json: clientDataText(credential.response.clientDataJSON),
      device: "browser",
      virtual: false,
      secret: "", // S is not needed to enroll a FIDO2 key; the session comes from the cookie
    };
    const signature = statement.get("sig"); // absent for the format "none"
    if (signature instanceof Uint8Array) fields.signature = toBase64url(signature);
    const chain = statement.get("x5c");
    if (Array.isArray(chain) && chain[0] instanceof Uint8Array) {
      fields.attestation_certificate = toBase64url(chain[0]);
    }
    return fields;
  }

  // The FIDO2 credentials of an Offer that this page may use: those made for this host.
  function usableCredentials(offer) {
    const credentials = Array.isArray(offer.credentials) ? offer.credentials : [];
    return credentials.filter((c) => c.kind === "fido2" && c.rp_id === location.hostname && c.challenge);
  }

  // Asks the key for an assertion with prf.eval.first = offer.prf_input, allowing every one of
  // `credentials` (Offer credentials that share one challenge, for this host; the key that
  // answers picks its own), and returns the `finish` fields with S as `secret`. Throws NoPrfError
  // when there is no PRF result, and the browser's DOMException when it refuses or the person
  // cancels.
  async function assert(offer, credentials) {
    const uvCount = credentials.filter((c) => c.uv).length;
    let userVerification = "preferred"; // some keys were enrolled with the PIN, some without
    if (uvCount === credentials.length) userVerification = "required";
    if (uvCount === 0) userVerification = "discouraged";
    const assertion = await navigator.credentials.get({
      publicKey: {
        rpId: credentials[0].rp_id,
        challenge: fromBase64url(credentials[0].challenge),
        allowCredentials: credentials.map((c) => ({ type: "public-key", id: fromBase64url(c.credential) })),
        userVerification,
        timeout: 120000,
        extensions: { prf: { eval: { first: fromBase64url(offer.prf_input) } } },
      },
    });
    const results = assertion.getClientExtensionResults();
    const first = results.prf && results.prf.results && results.prf.results.first;
    if (!first) throw new NoPrfError();
    return {
      ceremony: offer.ceremony,
      credential: toBase64url(assertion.rawId),
      authenticator_data: toBase64url(assertion.response.authenticatorData),
      signature: toBase64url(assertion.response.signature),
      client_data_json: clientDataText(assertion.response.clientDataJSON),
      secret: toBase64url(first),
    };
  }

  return Object.freeze({ NoPrfError, fromBase64url, toBase64url, available, enroll, usableCredentials, assert });
})();
