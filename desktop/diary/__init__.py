"""The diary screens (issue 11): My day, the diary's day and week views, and its dialogs."""
