"""Conferences end with their referral; erasure reaches volunteers; outcomes by the API."""
