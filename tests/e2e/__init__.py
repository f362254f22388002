"""Browser end-to-end tests: a real Home Assistant, the emulator and Chromium."""
