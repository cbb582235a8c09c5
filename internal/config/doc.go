// Package config owns the appliance's configuration: the YAML file, its
// GENESISSYNC_* environment overrides, defaults and validation.
//
// Load returns a fully validated, defaulted Config or an error listing every
// problem with its key path (shares.studio.target.bucket: required). It must
// never return a half-valid Config, and it must never log or print a secret:
// passwords and secret keys are of type Secret, which masks itself.
//
// viper is used here and nowhere else.
package config
