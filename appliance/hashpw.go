package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"
)

// hashPasswordCmd prints a bcrypt hash for status.admins.<name>.password_hash.
func hashPasswordCmd() *cobra.Command {
	cost := 12
	cmd := &cobra.Command{
		Use:   "hash-password",
		Short: "Print a bcrypt hash of a status page admin's password (read from the terminal without echo, or from stdin)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cost < 10 || cost > bcrypt.MaxCost {
				return configError{fmt.Errorf("--cost must be between 10 and %d", bcrypt.MaxCost)}
			}
			pw, err := readPassword()
			if err != nil {
				return err
			}
			switch {
			case pw == "":
				return configError{errors.New("empty password")}
			case len(pw) > 72:
				return configError{errors.New("bcrypt uses at most 72 bytes of a password; choose a shorter one")}
			}
			h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
			if err != nil {
				return fmt.Errorf("hash password: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(h))
			return nil
		},
	}
	cmd.Flags().IntVar(&cost, "cost", cost, "bcrypt cost (10 or more)")
	return cmd
}

// readPassword asks twice on a terminal, or reads one line from stdin.
func readPassword() (string, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fmt.Fprint(os.Stderr, "Password: ")
	a, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(os.Stderr, "Again: ")
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(a) != string(b) {
		return "", configError{errors.New("the passwords differ")}
	}
	return string(a), nil
}
