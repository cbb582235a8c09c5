// Command genesissync is the GenesisSync appliance: the daemon, its CLI and
// the loopback demo. This file only wires: parsing, logging, signals and the
// mapping of errors to exit codes; everything else lives in internal/.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"genesissync/internal/admin"
	"genesissync/internal/config"
	"genesissync/internal/daemon"
	"genesissync/internal/demo"
	"genesissync/internal/reconcile"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the daemon or a command failed while running
	exitConfig  = 2 // bad command line or invalid configuration
)

// configError marks errors that mean "fix your config or command line".
type configError struct{ error }

// configFlag adds --config (-c), the config file a command reads.
func configFlag(fs *pflag.FlagSet, path *string) {
	fs.StringVarP(path, "config", "c", config.DefaultPath, "configuration file")
}

func (e configError) Unwrap() error { return e.error }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := root().ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err))
}

func exitCode(err error) int {
	var ce configError
	var coded codedError // restore.go: verify's "mismatches found"
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ce):
		fmt.Fprintln(os.Stderr, "genesissync:", err)
		return exitConfig
	case errors.As(err, &coded):
		fmt.Fprintln(os.Stderr, "genesissync:", err)
		return coded.code
	default:
		fmt.Fprintln(os.Stderr, "genesissync:", err)
		return exitFailure
	}
}

func root() *cobra.Command {
	cmd := &cobra.Command{
		Use:           "genesissync",
		Short:         "SMB-fronted storage appliance that keeps ZFS shares and S3 buckets in sync",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return configError{err} })
	cmd.AddCommand(runCmd(), configCmd(), adoptCmd(), importCmd(), deletesCmd(), tripwireCmd(), shareCmd(), snapshotCmd(), verifyCmd(), restoreCmd(), alertsCmd(), demoCmd(), versionCmd(), hashPasswordCmd())
	return cmd
}

func newLogger(c *config.Config) zerolog.Logger {
	// Millisecond timestamps: settle windows and latencies are sub-second.
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000Z07:00"
	zerolog.DurationFieldUnit = time.Millisecond
	level, err := zerolog.ParseLevel(c.Log.Level)
	if err != nil {
		level = zerolog.InfoLevel
	}
	var w = zerolog.New(os.Stderr)
	if c.Log.Format == "console" {
		w = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: "15:04:05.000"})
	}
	return w.Level(level).With().Timestamp().Logger()
}

func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, configError{err}
	}
	return cfg, nil
}

func runCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the appliance daemon",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			return daemon.New(cfg, newLogger(cfg), version).Run(cmd.Context())
		},
	}
	configFlag(cmd.Flags(), &path)
	return cmd
}

func configCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Configuration tools"}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Validate a configuration file (and GENESISSYNC_* overrides); print every problem",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d shares, %d users)\n", args[0], len(cfg.Shares), len(cfg.Users))
			return nil
		},
	})
	return cmd
}

func demoCmd() *cobra.Command {
	opts := demo.Options{Version: version}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the appliance end to end on loopback: MinIO, smbd, the daemon and its status page",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(opts.ConfigPath)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			opts.Ready = func(f demo.Facts) {
				host, port, _ := net.SplitHostPort(f.SMBAddr)
				fmt.Fprintf(out, `
GenesisSync demo is running. Press Ctrl-C to stop it.

  Status page:   %[1]s/
  SMB share:     \\%[2]s\%[3]s on port %[4]s, user %[5]s, password %[6]s
                 smbclient //%[2]s/%[3]s -p %[4]s -U %[5]s%%%[6]s
                 Windows (port 445 forwarded to %[4]s): net use S: \\%[2]s\%[3]s /user:%[5]s %[6]s
  Share on disk: %[7]s
  Bucket:        %[8]s/%[9]s/%[10]s
  Facts:         %[11]s
  Config:        %[12]s
  CLI:           %[13]s

`, f.StatusURL, host, f.SMBShare, port, f.SMBUser, f.SMBPassword, f.SharePath,
					f.S3Endpoint, f.S3Bucket, f.S3Prefix, filepath.Join(opts.Dir, "demo.env"), f.ConfigPath, f.CLI)
			}
			return demo.Run(cmd.Context(), opts, newLogger(cfg))
		},
	}
	cmd.Flags().StringVarP(&opts.ConfigPath, "config", "c", demo.DefaultConfigPath, "configuration file")
	cmd.Flags().StringVar(&opts.Dir, "dir", demo.DefaultDir, "directory for everything the demo creates")
	cmd.Flags().StringVar(&opts.MinIOAddr, "minio-addr", demo.DefaultMinIOAddr, "MinIO's S3 address")
	cmd.Flags().IntVar(&opts.SMBPort, "smb-port", 0, "override the config's SMB port")
	cmd.Flags().StringVar(&opts.StatusAddr, "status-addr", "", "override the config's status address")
	return cmd
}

// confirmed asks prompt on the command's output and reports whether the
// person typed yes.
func confirmed(cmd *cobra.Command, prompt string) bool {
	fmt.Fprint(cmd.OutOrStdout(), prompt+" Type yes: ")
	var answer string
	_, err := fmt.Fscanln(cmd.InOrStdin(), &answer)
	return err == nil && strings.TrimSpace(answer) == "yes"
}

func deletesCmd() *cobra.Command {
	var path string
	var yes bool
	cmd := &cobra.Command{Use: "deletes", Short: "Review and approve deletes held by a share's mass-delete guard"}
	configFlag(cmd.PersistentFlags(), &path)
	// show prints the share's held deletes and returns them with the
	// daemon's admin client.
	show := func(cmd *cobra.Command, share string) (reconcile.DeleteBatch, *admin.Client, error) {
		cfg, err := loadConfig(path)
		if err != nil {
			return reconcile.DeleteBatch{}, nil, err
		}
		if _, ok := cfg.Shares[share]; !ok {
			return reconcile.DeleteBatch{}, nil, configError{fmt.Errorf("no share %q in %s", share, path)}
		}
		client := admin.NewClient(cfg.StateDir)
		b, err := client.Deletes(cmd.Context(), share)
		if err != nil {
			return b, nil, err
		}
		out := cmd.OutOrStdout()
		switch {
		case b.Tripped:
			fmt.Fprintf(out, "Share %s: the delete guard holds batch %s:\n", share, b.Batch)
		case len(b.Deletes) > 0:
			fmt.Fprintf(out, "Share %s: %d deletes are being gathered into a batch (not tripped):\n", share, len(b.Deletes))
		default:
			fmt.Fprintf(out, "Share %s: no deletes are held.\n", share)
		}
		for _, d := range b.Deletes {
			switch d.Action {
			case "conflict":
				fmt.Fprintf(out, "  conflict (first pass: both sides differ; both versions kept once approved) %q\n", d.Path)
			case "delete-local":
				fmt.Fprintf(out, "  delete on the share %q\n", d.Path)
			default:
				fmt.Fprintf(out, "  delete in the bucket %q\n", d.Path)
			}
		}
		return b, client, nil
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "show SHARE",
		Short: "List the deletes a share holds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, _, err := show(cmd, args[0])
			return err
		},
	})
	approve := &cobra.Command{
		Use:   "approve SHARE",
		Short: "Show the held batch, then release exactly that batch (deletes are recoverable: trash or versions)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, client, err := show(cmd, args[0])
			if err != nil {
				return err
			}
			if !b.Tripped {
				return errors.New("nothing to approve")
			}
			if !yes && !confirmed(cmd, fmt.Sprintf("Approve these %d deletes?", len(b.Deletes))) {
				return errors.New("not approved")
			}
			if err := client.Approve(cmd.Context(), args[0], b.Batch); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Batch %s approved.\n", b.Batch)
			return nil
		},
	}
	approve.Flags().BoolVarP(&yes, "yes", "y", false, "approve without asking")
	cmd.AddCommand(approve)
	return cmd
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), version) },
	}
}
