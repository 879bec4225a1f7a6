package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"interlude/client"
	"interlude/syncproto"
)

const lossWarning = `Print this kit, or keep it somewhere safe that is not this device.
With your passphrase, it is the only way into your journal on a new device,
and its recovery code is the only way back in if you forget the passphrase.
If you lose every device, this kit and your passphrase, your journal is gone
for good: nobody, including us, can recover it.`

func cmdSignup(c *cli, args []string) error {
	fs := c.flags("signup")
	server := fs.String("server", "", "the Interlude server, e.g. wss://interlude.example")
	kitPath := fs.String("kit", "", "file to write your recovery kit to (must not exist yet)")
	fs.StringVar(&c.deviceName, "device-name", "", deviceNameUsage)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *server == "" || *kitPath == "" {
		return usageErr("give --server URL and --kit FILE, e.g. interlude signup --server wss://interlude.example --kit ~/interlude-kit.txt")
	}
	cl, err := c.open()
	if err != nil {
		return err
	}
	defer cl.Close()
	if ok, err := cl.HasAccount(c.ctx); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w (profile: %s)", client.ErrProfileExists, cl.Dir())
	}
	p, err := c.newPassphrase(c.passFile, envPassphrase, "--passphrase-file")
	if err != nil {
		return err
	}
	kit, err := cl.SignUp(c.ctx, *server, p, client.SignUpOptions{KitPath: *kitPath})
	if err != nil {
		if errors.Is(err, client.ErrOffline) {
			return fmt.Errorf("%w\nsigning up needs the server; nothing was created", err)
		}
		return err
	}
	st, _ := cl.Status(c.ctx)
	return c.out(map[string]any{"account": kit.Account.String(), "device": st.Device.String(), "server": kit.Server, "kit": *kitPath},
		func(w io.Writer) {
			fmt.Fprintf(w, "Signed up. Account %s on %s.\n\n", kit.Account, kit.Server)
			fmt.Fprintf(w, "Your recovery kit is in %s.\n%s\n", *kitPath, lossWarning)
		})
}

// deviceNameUsage describes --device-name for signup, login and recover.
const deviceNameUsage = "the name this device shows in `interlude devices` on all your devices, sealed so the server cannot read it (default: this computer's host name)"

// openWithKit parses login's and recover's flags, reads the recovery kit and opens the
// profile (locked). The caller closes the client.
func (c *cli) openWithKit(name string, args []string) (*client.Client, *client.RecoveryKit, error) {
	fs := c.flags(name)
	server := fs.String("server", "", "the server (default: the one in the kit)")
	kitPath := fs.String("kit", "", "your recovery kit file")
	fs.StringVar(&c.deviceName, "device-name", "", deviceNameUsage)
	if err := parseNoArgs(fs, args); err != nil {
		return nil, nil, err
	}
	if *kitPath == "" {
		return nil, nil, usageErr("give --kit FILE: the recovery kit sign-up wrote")
	}
	kit, err := client.ReadKit(*kitPath)
	if err != nil {
		return nil, nil, err
	}
	if *server != "" {
		kit.Server = *server
	}
	cl, err := c.open()
	if err != nil {
		return nil, nil, err
	}
	return cl, kit, nil
}

// signedInJSON is what login and recover print with --json.
func signedInJSON(kit *client.RecoveryKit, st *client.Status) map[string]any {
	return map[string]any{"account": kit.Account.String(), "device": st.Device.String(), "server": st.Server}
}

func cmdLogin(c *cli, args []string) error {
	cl, kit, err := c.openWithKit("login", args)
	if err != nil {
		return err
	}
	defer cl.Close()
	p, err := c.passphrase("Passphrase: ")
	if err != nil {
		return err
	}
	if err := cl.Login(c.ctx, kit, p); err != nil {
		return err
	}
	st, _ := cl.Status(c.ctx)
	return c.out(signedInJSON(kit, st), func(w io.Writer) {
		fmt.Fprintf(w, "Signed in to %s as a new device (%s).\nRun `interlude sync` to bring your entries here.\n", kit.Account, st.Device)
	})
}

func cmdRecover(c *cli, args []string) error {
	cl, kit, err := c.openWithKit("recover", args)
	if err != nil {
		return err
	}
	defer cl.Close()
	p, err := c.newPassphrase(c.passFile, envPassphrase, "--passphrase-file")
	if err != nil {
		return err
	}
	if err := cl.Recover(c.ctx, kit, p); err != nil {
		return err
	}
	st, _ := cl.Status(c.ctx)
	return c.out(signedInJSON(kit, st), func(w io.Writer) {
		fmt.Fprintf(w, "Recovered %s and set your new passphrase. The old one no longer signs in anywhere.\n", kit.Account)
		fmt.Fprintf(w, "Your other devices keep working until their session ends; then sign them out and in again with the new passphrase.\nRun `interlude sync` to bring your entries here.\n")
	})
}

type statusJSON struct {
	Account   string  `json:"account"`
	Device    string  `json:"device"`
	Server    string  `json:"server"`
	Entries   int     `json:"entries"`
	Pending   int     `json:"pending"`
	Refused   int     `json:"refused"`
	Conflicts int     `json:"conflicts"`
	Invalid   int     `json:"invalid"`
	Cursor    uint64  `json:"cursor"`
	LastSync  *string `json:"last_sync"`
}

func cmdStatus(c *cli, args []string) error {
	fs := c.flags("status")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cl, err := c.open()
	if err != nil {
		return err
	}
	defer cl.Close()
	st, err := cl.Status(c.ctx)
	if err != nil {
		if errors.Is(err, client.ErrNoProfile) {
			return fmt.Errorf("%w (profile: %s)", err, cl.Dir())
		}
		return err
	}
	j := statusJSON{Account: st.Account.String(), Device: st.Device.String(), Server: st.Server, Entries: st.Entries,
		Pending: st.Pending, Refused: st.Refused, Conflicts: st.Conflicts, Invalid: st.Invalid, Cursor: st.Cursor}
	if !st.LastSync.IsZero() {
		s := st.LastSync.UTC().Format(time.RFC3339)
		j.LastSync = &s
	}
	return c.out(j, func(w io.Writer) {
		fmt.Fprintf(w, "account    %s\ndevice     %s\nserver     %s\nprofile    %s\n", st.Account, st.Device, st.Server, cl.Dir())
		fmt.Fprintf(w, "entries    %d\n", st.Entries)
		fmt.Fprintf(w, "pending    %s waiting to sync", plural(st.Pending, "change", "changes"))
		if st.Refused > 0 {
			fmt.Fprintf(w, " (%d refused by the server last time)", st.Refused)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "conflicts  %d", st.Conflicts)
		if st.Conflicts > 0 {
			fmt.Fprint(w, " (see `interlude conflicts`)")
		}
		fmt.Fprintln(w)
		if st.Invalid > 0 {
			fmt.Fprintf(w, "invalid    %s from the server failed verification and were not applied\n", plural(st.Invalid, "change", "changes"))
		}
		if st.LastSync.IsZero() {
			fmt.Fprintln(w, "last sync  never")
		} else {
			fmt.Fprintf(w, "last sync  %s\n", st.LastSync.Local().Format("2006-01-02 15:04"))
		}
	})
}

func cmdDevices(c *cli, args []string) error {
	fs := c.flags("devices")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		if pos[0] != "revoke" || len(pos) != 2 {
			return usageErr("usage: interlude devices, or interlude devices revoke ID")
		}
		id, err := syncproto.ParseDeviceID(pos[1])
		if err != nil {
			return usageErr("%v", err)
		}
		cl, err := c.openUnlocked()
		if err != nil {
			return err
		}
		defer cl.Close()
		if err := cl.RevokeDevice(c.ctx, id); err != nil {
			return err
		}
		return c.out(map[string]any{"revoked": id.String()}, func(w io.Writer) {
			fmt.Fprintf(w, "Revoked device %s: it can no longer sync.\n", id)
		})
	}
	cl, err := c.openUnlocked()
	if err != nil {
		return err
	}
	defer cl.Close()
	ds, err := cl.Devices(c.ctx)
	if err != nil {
		return err
	}
	type devJSON struct {
		ID             string `json:"id"`
		Name           string `json:"name"`            // empty: the device gave none
		NameUnreadable bool   `json:"name_unreadable"` // it gave one that does not open
		Created        string `json:"created"`
		LastSeen       string `json:"last_seen"`
		Revoked        bool   `json:"revoked"`
		Current        bool   `json:"current"`
	}
	js := []devJSON{}
	for _, d := range ds {
		js = append(js, devJSON{d.ID.String(), d.Name, d.NameUnreadable, d.Created.UTC().Format("2006-01-02"), d.LastSeen.UTC().Format(time.RFC3339), d.Revoked, d.Current})
	}
	return c.out(js, func(w io.Writer) {
		for _, d := range ds {
			mark := " "
			if d.Current {
				mark = "*"
			}
			state := "active"
			if d.Revoked {
				state = "revoked"
			}
			fmt.Fprintf(w, "%s %s  %-24s  added %s  last seen %s  %s\n", mark, d.ID, deviceName(d), d.Created.UTC().Format("2006-01-02"),
				d.LastSeen.Local().Format("2006-01-02 15:00"), state)
		}
		fmt.Fprintln(w, "(* this device)")
	})
}

// deviceName is how a device's name is shown.
func deviceName(d client.Device) string {
	switch {
	case d.NameUnreadable:
		return "(name does not open)"
	case d.Name == "":
		return "(no name)"
	}
	return d.Name
}

func cmdPassphrase(c *cli, args []string) error {
	fs := c.flags("passphrase")
	newFile := fs.String("new-passphrase-file", "", "read the new passphrase from this file (else $"+envNewPassphrase+", else a prompt)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cl, err := c.open()
	if err != nil {
		return err
	}
	defer cl.Close()
	old, err := c.passphrase("Current passphrase: ")
	if err != nil {
		return err
	}
	if err := cl.Unlock(old); err != nil {
		return err
	}
	p, err := c.newPassphrase(*newFile, envNewPassphrase, "--new-passphrase-file")
	if err != nil {
		return err
	}
	if err := cl.ChangePassphrase(c.ctx, old, p); err != nil {
		return err
	}
	return c.out(map[string]any{"changed": true}, func(w io.Writer) {
		fmt.Fprintln(w, "Passphrase changed. Your recovery kit stays valid. Use the new passphrase on your other devices when they next ask.")
	})
}

func cmdSignout(c *cli, args []string) error {
	fs := c.flags("signout")
	force := fs.Bool("force", false, "sign out even if changes are not synced yet (they are lost) or the passphrase is unknown")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cl, err := c.open()
	if err != nil {
		return err
	}
	defer cl.Close()
	if ok, err := cl.HasAccount(c.ctx); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w (profile: %s)", client.ErrNoProfile, cl.Dir())
	}
	// Unlock to end the session on the server too; with --force, carry on without it.
	if p, err := c.passphrase("Passphrase: "); err == nil {
		if err := cl.Unlock(p); err != nil && !*force {
			return err
		}
	} else if !*force {
		return err
	}
	if err := cl.SignOut(c.ctx, *force); err != nil {
		if errors.Is(err, client.ErrPendingChanges) {
			return fmt.Errorf("%w\nrun `interlude sync` first (and `interlude resolve` any conflicts), or add --force to lose them", err)
		}
		return err
	}
	return c.out(map[string]any{"signed_out": true}, func(w io.Writer) {
		fmt.Fprintln(w, "Signed out: this device's keys and copies of your entries are wiped. Your recovery kit and passphrase sign you in again.")
	})
}
