"""The app's full screens: the wood, the games list, the inspector, the charts, help."""
