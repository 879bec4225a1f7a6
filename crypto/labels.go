package crypto

// Domain-separation labels and signature contexts. Each carries the product
// name and the format version, so that a key or signature made for one purpose
// can never be accepted for another, and a future v2 cannot be confused with
// v1. They are gathered here so an auditor can see them all at once; a test
// checks that they are distinct.
const (
	labelEntryKeyCommitment = "interlude/v1/entry-key-commitment" // HKDF info for the entry key commitment
	ctxEnvelope             = "interlude/v1/envelope"             // Ed25519ctx context of envelope signatures
	labelVaultWrap          = "interlude/v1/vault-wrap"           // AAD prefix of vault-wrapped entry keys
	labelShareWrap          = "interlude/v1/share-wrap"           // HPKE info prefix of recipient-wrapped entry keys
	ctxGrant                = "interlude/v1/grant"                // Ed25519ctx context of grant signatures
	ctxDeletion             = "interlude/v1/deletion"             // Ed25519ctx context of deletion statements
	ctxPublicBundle         = "interlude/v1/public-bundle"        // Ed25519ctx context of public bundle self-signatures
	labelFingerprint        = "interlude/v1/fingerprint"          // SHA-256 prefix of a bundle fingerprint
	labelPairSafetyCode     = "interlude/v1/pair-safety-code"     // SHA-256 prefix of a pair safety code
	label2SKD               = "interlude/v1/2skd"                 // HKDF-Extract salt prefix, passphrase path
	labelKeybagKey          = "interlude/v1/keybag-key"           // HKDF-Expand info, passphrase path
	labelLoginKey           = "interlude/v1/login-key"            // HKDF-Expand info, passphrase path
	labelLocalProfile       = "interlude/v1/local-profile"        // HKDF-Expand info, passphrase path
	labelRecovery           = "interlude/v1/recovery"             // HKDF-Extract salt prefix, recovery path
	labelRecoveryKeybagKey  = "interlude/v1/recovery-keybag-key"  // HKDF-Expand info, recovery path
	labelRecoveryLoginKey   = "interlude/v1/recovery-login-key"   // HKDF-Expand info, recovery path
	labelRecoveryProfile    = "interlude/v1/recovery-local-profile"
	labelKeybag             = "interlude/v1/keybag"           // AAD prefix of keybags
	labelLocal              = "interlude/v1/local"            // AAD prefix of SealLocal boxes
	labelDeviceLabelKey     = "interlude/v1/device-label-key" // HKDF info of the device label key
	labelDeviceLabel        = "interlude/v1/device-label"     // AAD prefix of sealed device labels
)

// allLabels lists every label and context, for the distinctness test and the
// documentation check.
var allLabels = []string{
	labelEntryKeyCommitment, ctxEnvelope, labelVaultWrap, labelShareWrap, ctxGrant, ctxDeletion,
	ctxPublicBundle, labelFingerprint, labelPairSafetyCode, label2SKD, labelKeybagKey,
	labelLoginKey, labelLocalProfile, labelRecovery, labelRecoveryKeybagKey,
	labelRecoveryLoginKey, labelRecoveryProfile, labelKeybag, labelLocal, labelDeviceLabelKey,
	labelDeviceLabel,
}

// formatVersion is the first byte of every v1 format.
const formatVersion = 0x01
