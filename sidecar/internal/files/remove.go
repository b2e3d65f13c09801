package files

// Remove removes p (a symlink itself, never its target). A non-empty
// directory needs recursive. The allowed root itself cannot be removed.
func (s *Store) Remove(p string, recursive bool) error {
	loc, err := s.locate(p, anEntry)
	if err != nil {
		return err
	}
	if _, err := loc.root.Lstat(loc.rel); err != nil {
		return classify("remove", p, err)
	}
	if recursive {
		err = loc.root.RemoveAll(loc.rel)
	} else {
		err = loc.root.Remove(loc.rel)
	}
	if err != nil {
		return classify("remove", p, err)
	}
	return nil
}
