//go:build windows

package main

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// On Windows the association is per user, under HKEY_CURRENT_USER\Software\Classes, so it needs
// no administrator: .otc names the ProgID, whose shell\open\command runs assist connect "%1".
const (
	progID      = "Assist.OTC"
	classesKey  = `Software\Classes`
	extKey      = classesKey + `\` + otcExtension
	progIDKey   = classesKey + `\` + progID
	openWithKey = extKey + `\OpenWithProgids`
)

type regValue struct {
	key, name, value string
}

func associationValues(exe string) []regValue {
	return []regValue{
		{extKey, "", progID},
		{extKey, "Content Type", otcMIMEType},
		{openWithKey, progID, ""},
		{progIDKey, "", otcTypeName},
		{progIDKey + `\DefaultIcon`, "", `"` + exe + `",0`},
		{progIDKey + `\shell\open\command`, "", `"` + exe + `" connect "%1"`},
	}
}

func installAssociation(exe string, out io.Writer) error {
	warnIfTemporary(exe, out)
	for _, v := range associationValues(exe) {
		k, _, err := registry.CreateKey(registry.CURRENT_USER, v.key, registry.SET_VALUE)
		if err != nil {
			return fmt.Errorf(`create HKCU\%s: %w`, v.key, err)
		}
		err = k.SetStringValue(v.name, v.value)
		k.Close()
		if err != nil {
			return fmt.Errorf(`set HKCU\%s: %w`, v.key, err)
		}
	}
	notifyAssociationsChanged()
	fmt.Fprintf(out, "registered %s files for your account (HKCU\\%s → %s)\n", otcExtension, extKey, progID)
	fmt.Fprintf(out, "they open with: \"%s\" connect FILE\n", exe)
	fmt.Fprintln(out, "if Windows still asks which program to use, choose assist once and tick \"Always\"")
	return nil
}

func uninstallAssociation(out io.Writer) error {
	for _, key := range []string{progIDKey + `\shell\open\command`, progIDKey + `\shell\open`, progIDKey + `\shell`, progIDKey + `\DefaultIcon`, progIDKey} {
		if err := deleteKey(key); err != nil {
			return err
		}
	}
	// .otc itself is removed only while it still names our ProgID: another program may have
	// taken it over since.
	if k, err := registry.OpenKey(registry.CURRENT_USER, openWithKey, registry.SET_VALUE); err == nil {
		if err := k.DeleteValue(progID); err != nil && !errors.Is(err, registry.ErrNotExist) {
			k.Close()
			return fmt.Errorf(`remove %s from HKCU\%s: %w`, progID, openWithKey, err)
		}
		k.Close()
	}
	if k, err := registry.OpenKey(registry.CURRENT_USER, extKey, registry.QUERY_VALUE); err == nil {
		owner, _, _ := k.GetStringValue("")
		k.Close()
		if owner == progID {
			for _, key := range []string{openWithKey, extKey} {
				if err := deleteKey(key); err != nil {
					return err
				}
			}
		}
	}
	notifyAssociationsChanged()
	fmt.Fprintf(out, "%s files are no longer associated with assist\n", otcExtension)
	return nil
}

// deleteKey removes a key with no subkeys left; a missing one is fine.
func deleteKey(key string) error {
	if err := registry.DeleteKey(registry.CURRENT_USER, key); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf(`remove HKCU\%s: %w`, key, err)
	}
	return nil
}

// notifyAssociationsChanged tells Explorer to reread associations (SHChangeNotify with
// SHCNE_ASSOCCHANGED), as installers do; without it a new association shows after a sign-out.
func notifyAssociationsChanged() {
	const shcneAssocChanged, shcnfIDList = 0x08000000, 0
	proc := windows.NewLazySystemDLL("shell32.dll").NewProc("SHChangeNotify")
	if proc.Find() == nil {
		proc.Call(shcneAssocChanged, shcnfIDList, 0, 0)
	}
}
