// The Android library module of partnerkit, buildable on its own or included in an app's
// build (`include(":partnerkit")` with `projectDir` pointing here).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "partnerkit"
